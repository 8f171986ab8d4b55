import { docName, meUnreadOf } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, conflict, forbidden, notFound } from '../errors.js'
import {
  activeMemberIds, addConversationMembers, conversationsOfMember, findChannelByName, findDm,
  insertConversation, memberIdsOf, publicChannels, removeConversationMember
} from './conversation-store.js'
import { mirrorConversation } from './doc-mirror.js'
import { conversationFor, isConversationMember } from './request-queries.js'
import { isGuest, refuseGuest, strangersOf } from './guests.js'
import { unreadFor } from './unread.js'
import { conversationShape, type ConversationJson, type ConversationRow } from './shapes.js'

/** Conversation use cases: each checks the caller's access, changes SQLite, then the docs. */

/** Who is acting: a person's request or an agent's run (only the member and workspace matter). */
export type Actor = Pick<AuthContext, 'member' | 'workspace'>

const notFoundConversation = () => notFound('conversation_not_found', 'No such conversation, or you are not in it.')

/**
 * The conversation if the caller is in it. A non-member gets the same 404 as a missing id, so a
 * private channel's existence never leaks.
 */
export function requireMembership(gw: Gateway, auth: Actor, id: string): ConversationRow {
  return requireReadable(gw, auth, id, { publicChannels: false })
}

/**
 * Like requireMembership, but with `publicChannels` a public channel of the caller's workspace
 * is readable without joining it: the agent API allows that, as the seed's did. Private channels
 * and DMs stay members-only, with the same 404. A guest never reads a channel they are not in.
 */
export function requireReadable(gw: Gateway, auth: Actor, id: string, opts: { publicChannels: boolean }): ConversationRow {
  const found = conversationFor(gw.db, id, auth.member.id)
  if (!found || found.conversation.workspaceId !== auth.workspace.id) throw notFoundConversation()
  const c = found.conversation
  if (found.member || (opts.publicChannels && !isGuest(auth) && c.kind === 'channel' && !c.isPrivate)) return c
  throw notFoundConversation()
}

/**
 * Refuses writes into an archived channel (SPEC.md ACC6). REST writes are server-authored edits
 * the relay's guard never sees, so every REST write path checks this itself.
 */
export function requireWritable(c: ConversationRow): ConversationRow {
  if (c.archivedAt !== null) throw conflict('conversation_archived', `#${c.name} is archived and read-only; unarchive it first.`)
  return c
}

export async function shape(gw: Gateway, c: ConversationRow, viewerId: string): Promise<ConversationJson> {
  const me = await gw.sync.getDoc(docName.me(viewerId))
  return conversationShape(c, memberIdsOf(gw.db, c.id), meUnreadOf(me).get(c.id))
}

export async function listMine(gw: Gateway, auth: AuthContext): Promise<ConversationJson[]> {
  const mine = conversationsOfMember(gw.db, auth.member.id)
  // Counted now from SQLite (services/unread.ts), so the answer never lags the live tracker.
  const unread = await unreadFor(gw, auth.member.id, mine.map((c) => c.id))
  return mine.map((c) => conversationShape(c, memberIdsOf(gw.db, c.id), unread.get(c.id)))
}

function assertMembers(gw: Gateway, auth: AuthContext, ids: string[]): void {
  const known = activeMemberIds(gw.db, auth.workspace.id, ids)
  const unknown = ids.filter((id) => !known.has(id))
  if (unknown.length) throw badRequest('unknown_member', `Not members of this workspace: ${unknown.join(', ')}.`)
}

export async function createChannel(
  gw: Gateway,
  auth: AuthContext,
  input: { name: string; isPrivate: boolean; topic: string; memberIds: string[] }
): Promise<ConversationJson> {
  refuseGuest(auth, 'create channels')
  const memberIds = [...new Set([auth.member.id, ...input.memberIds])]
  assertMembers(gw, auth, memberIds)
  const row = gw.db.transaction((tx) => {
    if (findChannelByName(tx, auth.workspace.id, input.name)) throw conflict('name_taken', `#${input.name} already exists; pick another name or join it.`)
    return insertConversation(tx, {
      workspaceId: auth.workspace.id, kind: 'channel', name: input.name, topic: input.topic, isPrivate: input.isPrivate,
      createdBy: auth.member.id, memberIds, dmKey: null
    })
  })
  await mirrorConversation(gw, row.id)
  return shape(gw, row, auth.member.id)
}

/** The same set of people always gets the same DM: dm_key is their sorted ids. */
export async function openDm(gw: Gateway, auth: AuthContext, ids: string[]): Promise<{ conversation: ConversationJson; created: boolean }> {
  const memberIds = [...new Set([auth.member.id, ...ids])].sort()
  assertMembers(gw, auth, memberIds)
  if (isGuest(auth)) {
    const strangers = strangersOf(gw.db, auth.member.id, memberIds)
    if (strangers.length) throw forbidden('guest_forbidden', 'Guests can message only people they share a channel with.')
  }
  const dmKey = memberIds.join(',')
  const result = gw.db.transaction((tx) => {
    const existing = findDm(tx, auth.workspace.id, dmKey)
    if (existing) return { row: existing, created: false }
    const row = insertConversation(tx, {
      workspaceId: auth.workspace.id, kind: 'dm', name: '', topic: '', isPrivate: true, createdBy: auth.member.id, memberIds, dmKey
    })
    return { row, created: true }
  })
  if (result.created) {
    await mirrorConversation(gw, result.row.id)
  }
  return { conversation: await shape(gw, result.row, auth.member.id), created: result.created }
}

export function browse(gw: Gateway, auth: AuthContext) {
  refuseGuest(auth, 'browse channels')
  return publicChannels(gw.db, auth.workspace.id).map((c) => ({
    id: c.id, name: c.name, topic: c.topic, memberCount: c.memberCount,
    joined: isConversationMember(gw.db, c.id, auth.member.id), archived: c.archivedAt !== null
  }))
}

export async function join(gw: Gateway, auth: AuthContext, id: string): Promise<ConversationJson> {
  const found = conversationFor(gw.db, id, auth.member.id)
  if (!found || found.conversation.workspaceId !== auth.workspace.id) throw notFoundConversation()
  const { conversation: c, member } = found
  // Private channels and DMs are joined only by being added: same 404 as a missing id. So is
  // every channel a guest is not in.
  if (!member && (c.kind !== 'channel' || c.isPrivate || isGuest(auth))) throw notFoundConversation()
  if (!member) {
    addConversationMembers(gw.db, id, [auth.member.id])
    await mirrorConversation(gw, id)
  }
  return shape(gw, c, auth.member.id)
}

/** Joins every public channel: what a newly invited person is given. */
export async function joinPublicChannels(gw: Gateway, workspaceId: string, memberId: string): Promise<void> {
  for (const c of publicChannels(gw.db, workspaceId)) {
    if (addConversationMembers(gw.db, c.id, [memberId]).length) await mirrorConversation(gw, c.id)
  }
}

export async function leave(gw: Gateway, auth: AuthContext, id: string): Promise<void> {
  const c = requireMembership(gw, auth, id)
  if (c.kind === 'dm') throw badRequest('cannot_leave_dm', 'A direct message cannot be left; mute it instead.')
  removeConversationMember(gw.db, id, auth.member.id)
  // Open sockets were authorised at upgrade; close them (segments, board, every thread of the
  // conversation) before anything else is relayed to a non-member.
  gw.revocations.conversation(auth.member.id, id)
  await mirrorConversation(gw, id, [auth.member.id])
}

export async function addMembers(gw: Gateway, auth: AuthContext, id: string, ids: string[]): Promise<ConversationJson> {
  const c = requireMembership(gw, auth, id)
  refuseGuest(auth, 'add people to channels')
  if (c.kind === 'dm') throw badRequest('dm_members_fixed', 'A direct message is for a fixed set of people; open a new one instead.')
  assertMembers(gw, auth, ids)
  if (addConversationMembers(gw.db, id, ids).length) await mirrorConversation(gw, id)
  return shape(gw, c, auth.member.id)
}
