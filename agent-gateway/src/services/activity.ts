import type { Statement } from 'better-sqlite3'
import type { Db } from '@circlechat/db'
import { docName, meReactionsToMeOf, meTaskMentionsOf, noteReactionsToMe, type Message } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import type { Actor } from './conversations.js'
import { isConversationMember } from './request-queries.js'
import { isGuest } from './guests.js'

const ORIGIN = { source: 'server', reason: 'activity' } as const

/** Items a page of GET /api/activity holds, newest first (more when several share the last time). */
export const ACTIVITY_LIMIT = 50

/** What a mention row may name: me, or everyone in a conversation I am in. */
const MENTION_TARGETS = ['everyone', 'channel'] as const

export type ActivityItem =
  | { kind: 'mention'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string }
  | { kind: 'reaction'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string; emoji: string }
  | { kind: 'task_mention'; at: number; by: string; conversationId: string | null; taskId: string; commentId: string }

interface Row { id: string; conversationId: string; parentId: string | null; author: string; createdAt: number; body: string; reactions: string }

interface MentionQuery { memberId: string; target: string; before: number; limit: number }

interface Statements {
  mentions: Statement<[MentionQuery], Row>
  mentionsAt: Statement<[{ memberId: string; target: string; at: number }], Row>
  message: Statement<[string], Row>
  isPerson: Statement<[string], number>
}

const cache = new WeakMap<Db, Statements>()

function statements(db: Db): Statements {
  let s = cache.get(db)
  if (!s) {
    const sqlite = db.$client
    const cols = 'm.id, m.conversation_id AS conversationId, m.parent_id AS parentId, m.author, m.created_at AS createdAt, m.body, m.reactions'
    s = {
      // Messages and replies naming `target` (me, @channel or @everyone) before a time, in
      // conversations I am in now: read newest first along message_mentions (target, created_at),
      // one target per query so the index gives the order and the LIMIT stops the walk.
      mentions: sqlite.prepare(`SELECT ${cols} FROM message_mentions mm
        JOIN messages m ON m.id = mm.message_id
        JOIN conversation_members cm ON cm.conversation_id = mm.conversation_id AND cm.member_id = @memberId
        WHERE mm.target = @target AND mm.created_at < @before AND m.deleted = 0 AND m.author <> @memberId
        ORDER BY mm.created_at DESC LIMIT @limit`),
      // The same at one time: the rest of a page's last instant, so a cursor by time skips nothing.
      mentionsAt: sqlite.prepare(`SELECT ${cols} FROM message_mentions mm
        JOIN messages m ON m.id = mm.message_id
        JOIN conversation_members cm ON cm.conversation_id = mm.conversation_id AND cm.member_id = @memberId
        WHERE mm.target = @target AND mm.created_at = @at AND m.deleted = 0 AND m.author <> @memberId`),
      message: sqlite.prepare(`SELECT ${cols} FROM messages m WHERE m.id = ? AND m.deleted = 0`),
      isPerson: sqlite.prepare(`SELECT 1 FROM members WHERE id = ? AND kind = 'user'`).pluck()
    } as unknown as Statements
    cache.set(db, s)
  }
  return s
}

/**
 * A message changed (the relay's feed): reactions by others on a person's message are noted, with
 * the time first seen, in the author's `me:` doc. Only when there are some, so most updates cost
 * nothing; each costs one doc transaction of the author's otherwise.
 */
export async function noteReactions(gw: Pick<Gateway, 'db' | 'sync'>, conversationId: string, m: Message): Promise<void> {
  const others = m.reactions.filter((r) => r.memberId !== m.author)
  if (others.length === 0 || m.deleted || !statements(gw.db).isPerson.get(m.author)) return
  const at = Date.now()
  await gw.sync.transact(docName.me(m.author), ORIGIN, (doc) =>
    noteReactionsToMe(doc, others.map((r) => ({ messageId: m.id, conversationId, by: r.memberId, emoji: r.emoji, at })))
  )
}

/**
 * One page of mentions of me (messages and task comments) and reactions to my messages, newest
 * first, older than `before`, with membership checked now: nothing from a conversation I have
 * left. The work is bounded by the page, not by history: mentions come by index, reactions and
 * task mentions from my `me:` doc (at most MAX_REACTIONS_TO_ME and MAX_TASK_MENTIONS). A page ends
 * on a whole instant; `nextBefore` asks for the next one (null: nothing older).
 */
export async function listActivity(gw: Gateway, auth: Actor, before = Number.MAX_SAFE_INTEGER): Promise<{ items: ActivityItem[]; nextBefore: number | null }> {
  const me = auth.member.id
  const s = statements(gw.db)
  const targets = [me, ...MENTION_TARGETS]
  const mentions = new Map<string, Row>()
  let more = false
  for (const target of targets) {
    const rows = s.mentions.all({ memberId: me, target, before, limit: ACTIVITY_LIMIT })
    if (rows.length === ACTIVITY_LIMIT) more = true
    for (const r of rows) mentions.set(r.id, r)
  }
  const items: ActivityItem[] = []
  const mention = (r: Row): ActivityItem => ({
    kind: 'mention', at: r.createdAt, by: r.author, conversationId: r.conversationId, messageId: r.id, parentId: r.parentId, bodyMd: r.body
  })
  for (const r of mentions.values()) items.push(mention(r))
  const doc = await gw.sync.getDoc(docName.me(me))
  const member = new Map<string, boolean>()
  const isMember = (id: string) => {
    if (!member.has(id)) member.set(id, isConversationMember(gw.db, id, me))
    return member.get(id)!
  }
  for (const r of meReactionsToMeOf(doc).values()) {
    if (r.at >= before || !isMember(r.conversationId)) continue
    const row = s.message.get(r.messageId)
    // Only reactions the message still has.
    if (!row || !(JSON.parse(row.reactions) as Array<{ emoji: string; memberId: string }>).some((x) => x.memberId === r.by && x.emoji === r.emoji)) continue
    items.push({ kind: 'reaction', at: r.at, by: r.by, conversationId: r.conversationId, messageId: r.messageId, parentId: row.parentId, bodyMd: row.body, emoji: r.emoji })
  }
  for (const t of meTaskMentionsOf(doc).values()) {
    if (t.at >= before || (t.conversationId ? !isMember(t.conversationId) : isGuest(auth))) continue
    items.push({ kind: 'task_mention', at: t.at, by: t.by, conversationId: t.conversationId, taskId: t.taskId, commentId: t.commentId })
  }
  items.sort((a, b) => b.at - a.at)
  if (items.length <= ACTIVITY_LIMIT && !more) return { items, nextBefore: null }
  // Cut after the page's last instant, whole: what shares it beyond the query limits joins it.
  const cutoff = items[Math.min(items.length, ACTIVITY_LIMIT) - 1]!.at
  const page = items.filter((i) => i.at >= cutoff)
  for (const target of targets) {
    for (const r of s.mentionsAt.all({ memberId: me, target, at: cutoff })) {
      if (mentions.has(r.id)) continue
      mentions.set(r.id, r)
      page.push(mention(r))
    }
  }
  return { items: page, nextBefore: cutoff }
}
