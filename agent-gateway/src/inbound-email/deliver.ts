import { Readable } from 'node:stream'
import { eq } from 'drizzle-orm'
import type { ParsedMail } from 'mailparser'
import { members, messages, workspaces } from '@circlechat/db'
import { MAX_ATTACHMENTS, appendMessage, docName, type Attachment } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'
import { requireMembership, requireWritable } from '../services/conversations.js'
import { resolveAttachments, storeFile } from '../services/files.js'
import { withIdempotencyKey } from '../services/idempotency.js'
import { renderMail } from './render.js'

/**
 * Posts one parsed mail into a channel as its Email member: a server-authored edit of the
 * channel's live segment with a `rest` origin, exactly like a REST post, so the relay's index,
 * unread counts, search, file references and agent triggers all see it. Membership and the
 * archive flag are read again here, at the moment of use. Mail never mentions anyone: an
 * outsider must not be able to @everyone a channel.
 *
 * `mailKey` names the mail (listener.ts): one key posts once per channel, through the REST
 * posts' idempotency keys under the channel's Email member. A mail to several channels that
 * failed in one is retried by the sender whole; the channels that already have it answer with
 * their earlier message instead of posting it again.
 */
export async function deliverMail(gw: Gateway, target: { conversationId: string; memberId: string }, mail: ParsedMail, opts: { authservId: string; mailKey: string }): Promise<string> {
  const member = gw.db.select().from(members).where(eq(members.id, target.memberId)).get()
  const workspace = member && gw.db.select().from(workspaces).where(eq(workspaces.id, member.workspaceId)).get()
  if (!member || !workspace || member.deactivated) throw new Error('the channel has no active Email member')
  let conv
  try {
    conv = requireWritable(requireMembership(gw, { member, workspace }, target.conversationId))
  } catch (err) {
    // Someone removed the Email member from the channel (turning the address on again brings it
    // back), or the channel was archived since RCPT TO: a permanent refusal, not a retry loop.
    if (err instanceof ApiError) throw Object.assign(new Error(`5.7.1 The channel takes no mail: ${err.message}`), { responseCode: 550 })
    throw err
  }
  const owner = { memberId: member.id, workspaceId: workspace.id }
  const live = docName.conv(conv.id, conv.liveSegment)
  const { result } = await withIdempotencyKey(gw, member.id, opts.mailKey, conv.id,
    (id) => (gw.db.select({ id: messages.id }).from(messages).where(eq(messages.id, id)).get() ? id : null),
    async (id) => {
      const { body, card, attachments } = await prepare(gw, owner, mail, opts.authservId)
      return gw.sync.transact(live, { source: 'rest', memberId: member.id }, (doc) => appendMessage(doc, { id, author: member.id, body, attachments, card }))
    })
  return result
}

/** Stores the attachments as the Email member's files and renders the body. */
async function prepare(gw: Gateway, owner: { memberId: string; workspaceId: string }, mail: ParsedMail, authservId: string) {
  const notes: string[] = []
  const keys: Array<{ key: string }> = []
  for (const [i, a] of mail.attachments.entries()) {
    const name = a.filename || `attachment-${i + 1}`
    if (keys.length >= MAX_ATTACHMENTS) {
      notes.push(`${mail.attachments.length - i} more attachments were not kept (at most ${MAX_ATTACHMENTS} a message).`)
      break
    }
    try {
      keys.push({ key: (await storeFile(gw, owner, Readable.from([a.content]), name)).key })
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      notes.push(`Attachment ${name} was not kept: ${err.message}`)
    }
  }
  const attachments: Attachment[] = resolveAttachments(gw, owner, keys)
  return { ...renderMail(mail, { authservId, notes }), attachments }
}
