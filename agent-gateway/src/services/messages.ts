import { and, desc, eq, inArray, isNull, lt, lte, or, type SQL } from 'drizzle-orm'
import { members, messages } from '@circlechat/db'
import {
  appendMessage, deleteMessage, docName, editMessage, extractMentionHandles, findMessage, partitionMentions, readMessage, type Message
} from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { ApiError, badRequest, forbidden, notFound } from '../errors.js'
import { requireMembership, requireWritable, type Actor } from './conversations.js'
import { messageDocShape, messageRowShape, type MessageJson } from './shapes.js'
import { fingerprint, withIdempotencyKey } from './idempotency.js'
import { resolveAttachments, type AttachmentInput } from './files.js'

/**
 * REST reads come from the `messages` index (the relay writes it in the same SQLite transaction
 * as the doc update); REST writes are server-authored edits of the same Yjs docs browsers edit.
 */

const messageNotFound = () => notFound('message_not_found', 'No such message, or you cannot see it.')

/** `@handle` → member ids of this workspace, plus the literal 'everyone' / 'channel'. */
export function resolveMentions(gw: Gateway, workspaceId: string, body: string): string[] {
  const { broadcast: out, direct: wanted } = partitionMentions(extractMentionHandles(body))
  if (wanted.length) {
    const rows = gw.db
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.workspaceId, workspaceId), inArray(members.handle, wanted), eq(members.deactivated, false)))
      .all()
    out.push(...rows.map((r) => r.id))
  }
  return out
}

/**
 * An opaque page cursor: the (createdAt, id) of the oldest message of the page just served.
 * Messages are ordered by that pair, so messages sharing a millisecond still page exactly once.
 */
function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(`${createdAt}:${id}`, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const m = /^(\d{1,16}):([\w-]{1,64})$/.exec(text)
  return m ? { createdAt: Number(m[1]), id: m[2]! } : null
}

export interface PageQuery { before?: number; cursor?: string; limit: number; parentId?: string }

export function listMessages(gw: Gateway, auth: AuthContext, conversationId: string, q: PageQuery): { messages: MessageJson[]; hasMore: boolean; nextCursor: string | null } {
  requireMembership(gw, auth, conversationId)
  const { rows, hasMore, nextCursor } = messagePage(gw, conversationId, q)
  return { messages: rows.map(messageRowShape), hasMore, nextCursor }
}

/**
 * One page of a conversation's top-level messages (or of one thread's replies, with `parentId`),
 * oldest to newest. No access check: callers check first. `liveOnly` filters deleted messages in
 * SQL, so such a page is never short of live ones.
 */
export function messagePage(gw: Gateway, conversationId: string, q: PageQuery, opts: { liveOnly?: boolean } = {}) {
  const where: SQL[] = [eq(messages.conversationId, conversationId)]
  if (opts.liveOnly) where.push(eq(messages.deleted, false))
  where.push(q.parentId ? eq(messages.parentId, q.parentId) : isNull(messages.parentId))
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor)
    if (!c) throw badRequest('invalid_input', 'cursor: pass back a nextCursor from an earlier page.')
    // (createdAt, id) < cursor, written so the created_at index bounds the scan.
    where.push(lte(messages.createdAt, c.createdAt), or(lt(messages.createdAt, c.createdAt), lt(messages.id, c.id))!)
  } else if (q.before !== undefined) {
    where.push(lt(messages.createdAt, q.before))
  }
  // Newest first to take the page nearest the cursor, then reversed: the client renders oldest → newest.
  const rows = gw.db
    .select()
    .from(messages)
    .where(and(...where))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(q.limit + 1)
    .all()
  const hasMore = rows.length > q.limit
  const page = rows.slice(0, q.limit)
  const oldest = page.at(-1)
  return { rows: page.reverse(), hasMore, nextCursor: hasMore && oldest ? encodeCursor(oldest.createdAt, oldest.id) : null }
}

/**
 * Posts a message. With an `idempotencyKey` the post happens once per (member, key): a retry
 * answers with the message the first attempt stored (`replayed`), posting nothing.
 */
export async function postMessage(
  gw: Gateway,
  auth: AuthContext,
  conversationId: string,
  input: { bodyMd: string; parentId?: string; attachments?: AttachmentInput[] },
  opts: { idempotencyKey?: string } = {}
): Promise<{ message: MessageJson; replayed: boolean }> {
  const conv = requireWritable(requireMembership(gw, auth, conversationId))
  let target = docName.conv(conv.id, conv.liveSegment)
  if (input.parentId) {
    // Threads hang off top-level messages of this conversation only (no threads in threads).
    const root = gw.db.select({ id: messages.id }).from(messages)
      .where(and(eq(messages.id, input.parentId), eq(messages.conversationId, conv.id), isNull(messages.parentId)))
      .get()
    if (!root) throw notFound('parent_not_found', 'The message you are replying to does not exist in this conversation.')
    target = docName.thread(root.id)
  }
  const mentions = resolveMentions(gw, auth.workspace.id, input.bodyMd)
  const attachments = resolveAttachments(gw, { memberId: auth.member.id, workspaceId: auth.workspace.id }, input.attachments)
  const write = async (id?: string) => {
    const message = await gw.sync.transact(target, { source: 'rest', memberId: auth.member.id }, (doc) => {
      const posted = appendMessage(doc, { id, author: auth.member.id, body: input.bodyMd, mentions, parentId: input.parentId, attachments })
      return readMessage(findMessage(doc, posted)!)
    })
    return messageDocShape(message, conv.id)
  }
  if (opts.idempotencyKey === undefined) return { message: await write(), replayed: false }
  const { result, replayed } = await withIdempotencyKey(
    gw, auth.member.id, opts.idempotencyKey, fingerprint([conv.id, input.parentId, input.bodyMd, ...(attachments.length ? [attachments.map((a) => a.key).join(',')] : [])]),
    (id) => {
      const row = gw.db.select().from(messages).where(eq(messages.id, id)).get()
      return row ? messageRowShape(row) : null
    },
    write
  )
  return { message: result, replayed }
}

/** The message's index row, if the caller may see it (member of its conversation). */
export function findVisible(gw: Gateway, auth: Actor, id: string) {
  const row = gw.db.select().from(messages).where(eq(messages.id, id)).get()
  if (!row) throw messageNotFound()
  try {
    requireMembership(gw, auth, row.conversationId)
  } catch {
    throw messageNotFound()
  }
  return row
}

/** One message and the doc holding it (`conv:<id>:<segment>` or `thread:<root>`), for jumping to it. */
export function getMessage(gw: Gateway, auth: Actor, id: string): { message: MessageJson; doc: string } {
  const row = findVisible(gw, auth, id)
  return { message: messageRowShape(row), doc: row.doc }
}

export async function editMessageBody(gw: Gateway, auth: AuthContext, id: string, bodyMd: string): Promise<MessageJson> {
  const row = findVisible(gw, auth, id)
  requireWritable(requireMembership(gw, auth, row.conversationId))
  if (row.author !== auth.member.id) throw forbidden('not_author', 'Only the author can edit a message.')
  if (row.deleted) throw new ApiError(409, 'message_deleted', 'This message was deleted; post a new one instead.')
  const mentions = resolveMentions(gw, auth.workspace.id, bodyMd)
  const message = await gw.sync.transact(row.doc, { source: 'rest', memberId: auth.member.id }, (doc): Message | null => {
    if (!editMessage(doc, id, bodyMd, mentions)) return null
    return readMessage(findMessage(doc, id)!)
  })
  if (!message) throw new ApiError(409, 'message_deleted', 'This message was deleted; post a new one instead.')
  return messageDocShape(message, row.conversationId)
}

export async function removeMessage(gw: Gateway, auth: AuthContext, id: string): Promise<void> {
  const row = findVisible(gw, auth, id)
  requireWritable(requireMembership(gw, auth, row.conversationId))
  // Admins moderate: they may delete anyone's message (SPEC.md OWN5).
  if (row.author !== auth.member.id && auth.member.role !== 'admin') throw forbidden('not_author', 'Only the author or an admin can delete a message.')
  if (row.deleted) return
  const ok = await gw.sync.transact(row.doc, { source: 'rest', memberId: auth.member.id }, (doc) => deleteMessage(doc, id))
  if (!ok) throw messageNotFound()
}
