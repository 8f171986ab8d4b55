import type * as Y from 'yjs'

/**
 * `dir:<workspaceId>`: the workspace directory, written only by the server.
 *   'workspace': Y.Map  id, name, handle
 *   'members':   Y.Map  memberId → DirMember (humans and agents alike)
 *   'channels':  Y.Map  conversationId → DirChannel (public channels only: a private channel's
 *                       existence is visible only to its members, through their `me:` doc)
 */
export interface DirMember {
  id: string
  kind: 'user' | 'agent' | 'bot'
  name: string
  handle: string
  role: 'admin' | 'member'
  avatar: string | null
  title: string | null
  reportsTo: string | null
  deactivated?: boolean
}

export interface DirChannel {
  id: string
  name: string
  topic: string
  memberCount: number
}

export const dirMembersOf = (doc: Y.Doc) => doc.getMap<DirMember>('members')
export const dirChannelsOf = (doc: Y.Doc) => doc.getMap<DirChannel>('channels')
export const dirWorkspaceOf = (doc: Y.Doc) => doc.getMap<string>('workspace')

export function putMember(doc: Y.Doc, member: DirMember, origin?: unknown) {
  doc.transact(() => dirMembersOf(doc).set(member.id, member), origin)
}

export function putChannel(doc: Y.Doc, channel: DirChannel, origin?: unknown) {
  doc.transact(() => dirChannelsOf(doc).set(channel.id, channel), origin)
}

export function removeChannel(doc: Y.Doc, id: string, origin?: unknown) {
  doc.transact(() => dirChannelsOf(doc).delete(id), origin)
}

export function putWorkspace(doc: Y.Doc, ws: { id: string; name: string; handle: string }, origin?: unknown) {
  doc.transact(() => {
    const map = dirWorkspaceOf(doc)
    map.set('id', ws.id)
    map.set('name', ws.name)
    map.set('handle', ws.handle)
  }, origin)
}
