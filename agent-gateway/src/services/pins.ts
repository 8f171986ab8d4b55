import { and, count, desc, eq, type SQL } from 'drizzle-orm'
import { messages, pins } from '@circlechat/db'
import { MAX_PINS } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { ApiError, conflict } from '../errors.js'
import { requireMembership, requireWritable } from './conversations.js'
import { mirrorConversation } from './doc-mirror.js'
import { findVisible } from './messages.js'
import { messageRowShape, type MessageJson } from './shapes.js'

/**
 * Pins live in SQLite (any segment or thread of a conversation) and are published as the id list
 * of the conversation's `me:` summary, so every member's menus and details panel update live.
 * Any member of a writable conversation may pin or unpin, as in Slack.
 */

export interface PinJson { message: MessageJson; pinnedBy: string; pinnedAt: number }

/** Newest pin first; deleted messages are left out. */
export function listPins(gw: Gateway, auth: AuthContext, conversationId: string): PinJson[] {
  requireMembership(gw, auth, conversationId)
  return gw.db
    .select({ m: messages, pinnedBy: pins.pinnedBy, pinnedAt: pins.pinnedAt })
    .from(pins)
    .innerJoin(messages, eq(messages.id, pins.messageId))
    .where(and(eq(pins.conversationId, conversationId), eq(messages.deleted, false)))
    .orderBy(desc(pins.pinnedAt))
    .limit(MAX_PINS)
    .all()
    .map((r) => ({ message: messageRowShape(r.m), pinnedBy: r.pinnedBy, pinnedAt: r.pinnedAt }))
}

export async function setPinned(gw: Gateway, auth: AuthContext, messageId: string, pinned: boolean): Promise<void> {
  const row = findVisible(gw, auth, messageId)
  requireWritable(requireMembership(gw, auth, row.conversationId))
  if (pinned && row.deleted) throw new ApiError(409, 'message_deleted', 'This message was deleted; it cannot be pinned.')
  const changed = gw.db.transaction((tx) => {
    const pinsWhere = (where: SQL) => tx.select({ n: count() }).from(pins).where(where).get()!.n
    if (!pinned) return tx.delete(pins).where(eq(pins.messageId, messageId)).run().changes > 0
    if (pinsWhere(eq(pins.messageId, messageId)) > 0) return false
    if (pinsWhere(eq(pins.conversationId, row.conversationId)) >= MAX_PINS) throw conflict('too_many_pins', `A conversation keeps at most ${MAX_PINS} pins; unpin one first.`)
    return tx.insert(pins).values({ messageId, conversationId: row.conversationId, pinnedBy: auth.member.id, pinnedAt: Date.now() })
      .onConflictDoNothing().run().changes > 0
  })
  if (changed) await mirrorConversation(gw, row.conversationId)
}
