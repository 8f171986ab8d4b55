import { eq } from 'drizzle-orm'
import { messages } from '@circlechat/db'
import { findMessage, readMessage, toggleReaction, type Message } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { ApiError, notFound } from '../errors.js'
import { requireMembership, requireWritable } from './conversations.js'
import { messageDocShape, type MessageJson } from './shapes.js'

const messageNotFound = () => notFound('message_not_found', 'No such message, or you cannot see it.')

/**
 * Toggles the caller's `emoji` on a message: the same server-authored edit of the message's doc
 * (its conversation segment or thread) that a browser makes, under the caller's own reaction key
 * only (SPEC.md OWN4), so REST and sync reactions are one set.
 */
export async function toggleMyReaction(gw: Gateway, auth: AuthContext, messageId: string, emoji: string): Promise<MessageJson> {
  const row = gw.db.select({ doc: messages.doc, conversationId: messages.conversationId, deleted: messages.deleted })
    .from(messages).where(eq(messages.id, messageId)).get()
  if (!row) throw messageNotFound()
  let conv
  try {
    conv = requireMembership(gw, auth, row.conversationId)
  } catch {
    throw messageNotFound() // same answer as a missing id: a private message's existence never leaks
  }
  requireWritable(conv)
  if (row.deleted) throw new ApiError(409, 'message_deleted', 'This message was deleted; it cannot take reactions.')
  const message = await gw.sync.transact(row.doc, { source: 'rest', memberId: auth.member.id }, (doc): Message | null => {
    if (toggleReaction(doc, messageId, auth.member.id, emoji) === null) return null
    return readMessage(findMessage(doc, messageId)!)
  })
  if (!message) throw messageNotFound()
  return messageDocShape(message, row.conversationId)
}
