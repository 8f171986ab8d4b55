import type * as Y from 'yjs'

/**
 * `dir:<workspaceId>`: the workspace directory, written only by the server.
 *   'workspace': Y.Map  id, name, handle, icon (the icon's URL, '' for none)
 *   'members':   Y.Map  memberId → DirMember (humans and agents alike)
 *   'channels':  Y.Map  conversationId → DirChannel: no longer written (the server removes old
 *                       entries). Guests read this doc too, and must not learn which public
 *                       channels exist; members browse them through REST.
 */
export interface DirMember {
  id: string
  kind: 'user' | 'agent' | 'bot'
  name: string
  handle: string
  /** A guest sees only the channels they were added to. */
  role: 'admin' | 'member' | 'guest'
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

export function putWorkspace(doc: Y.Doc, ws: { id: string; name: string; handle: string; icon?: string | null }, origin?: unknown) {
  doc.transact(() => {
    const map = dirWorkspaceOf(doc)
    map.set('id', ws.id)
    map.set('name', ws.name)
    map.set('handle', ws.handle)
    if (ws.icon !== undefined && (map.get('icon') ?? '') !== (ws.icon ?? '')) map.set('icon', ws.icon ?? '')
  }, origin)
}
