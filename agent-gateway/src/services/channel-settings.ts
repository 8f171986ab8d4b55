import { eq } from 'drizzle-orm'
import { conversations } from '@circlechat/db'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, conflict, forbidden, notFound } from '../errors.js'
import { findChannelByName, removeConversationMember } from './conversation-store.js'
import { requireMembership, requireWritable, shape } from './conversations.js'
import { mirrorConversation } from './doc-mirror.js'
import { isConversationMember } from './request-queries.js'
import type { ConversationJson, ConversationRow } from './shapes.js'

/**
 * Channel management: topic and description (any member), rename, archive and removing members
 * (the channel's creator or a workspace admin). Every check reads SQLite at the moment of use.
 */

export function requireChannel(gw: Gateway, auth: AuthContext, id: string): ConversationRow {
  const c = requireMembership(gw, auth, id)
  if (c.kind === 'dm') throw badRequest('not_a_channel', 'Direct messages have no name, topic or archive; only channels do.')
  return c
}

export function requireManager(auth: AuthContext, c: ConversationRow, what: string): void {
  if (auth.member.role !== 'admin' && c.createdBy !== auth.member.id) {
    throw forbidden('not_channel_manager', `Only the channel's creator or a workspace admin can ${what}.`)
  }
}

export interface ChannelChanges { name?: string; topic?: string; description?: string }

export async function updateChannel(gw: Gateway, auth: AuthContext, id: string, changes: ChannelChanges): Promise<ConversationJson> {
  const c = requireWritable(requireChannel(gw, auth, id))
  if (changes.name !== undefined && changes.name !== c.name) requireManager(auth, c, 'rename it')
  const row = gw.db.transaction((tx) => {
    if (changes.name !== undefined && changes.name !== c.name && findChannelByName(tx, auth.workspace.id, changes.name)) {
      throw conflict('name_taken', `#${changes.name} already exists; pick another name.`)
    }
    return tx.update(conversations).set(changes).where(eq(conversations.id, id)).returning().get()
  })
  await mirrorConversation(gw, id)
  return shape(gw, row, auth.member.id)
}

/** Archiving keeps members and history: the channel turns read-only and leaves the sidebar. */
export async function setArchived(gw: Gateway, auth: AuthContext, id: string, archived: boolean): Promise<ConversationJson> {
  const c = requireChannel(gw, auth, id)
  requireManager(auth, c, archived ? 'archive it' : 'unarchive it')
  const row = (archived === (c.archivedAt !== null)) ? c
    : gw.db.update(conversations).set({ archivedAt: archived ? Date.now() : null }).where(eq(conversations.id, id)).returning().get()
  if (row !== c) await mirrorConversation(gw, id)
  return shape(gw, row, auth.member.id)
}

export async function removeMember(gw: Gateway, auth: AuthContext, id: string, memberId: string): Promise<ConversationJson> {
  const c = requireChannel(gw, auth, id)
  requireManager(auth, c, 'remove members')
  if (memberId === auth.member.id) throw badRequest('cannot_remove_self', 'To leave the channel yourself, use leave.')
  if (!isConversationMember(gw.db, id, memberId)) throw notFound('member_not_found', 'That person is not in this channel.')
  removeConversationMember(gw.db, id, memberId)
  // As on leave: their open sockets close before anything else is relayed to a non-member.
  gw.revocations.conversation(memberId, id)
  await mirrorConversation(gw, id, [memberId])
  return shape(gw, c, auth.member.id)
}
