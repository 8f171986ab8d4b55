import type { Statement } from 'better-sqlite3'
import type { Db } from '@circlechat/db'
import { docName, meReactionsToMeOf, meTaskMentionsOf, noteReactionsToMe, type Message } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import type { Actor } from './conversations.js'
import { isConversationMember } from './request-queries.js'
import { isGuest } from './guests.js'

const ORIGIN = { source: 'server', reason: 'activity' } as const

/** Items GET /api/activity answers with, newest first. */
export const ACTIVITY_LIMIT = 50

export type ActivityItem =
  | { kind: 'mention'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string }
  | { kind: 'reaction'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string; emoji: string }
  | { kind: 'task_mention'; at: number; by: string; conversationId: string | null; taskId: string; commentId: string }

interface Row { id: string; conversationId: string; parentId: string | null; author: string; createdAt: number; body: string; reactions: string }

interface Statements {
  mentions: Statement<[{ memberId: string; limit: number }], Row>
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
      // Messages and replies naming me, @channel or @everyone, in conversations I am in now.
      mentions: sqlite.prepare(`SELECT ${cols} FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = @memberId
        WHERE m.deleted = 0 AND m.author <> @memberId
          AND EXISTS (SELECT 1 FROM json_each(m.mentions) j WHERE j.value IN (@memberId, 'everyone', 'channel'))
        ORDER BY m.created_at DESC LIMIT @limit`),
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
 * Mentions of me (messages and task comments) and reactions to my messages, newest first, with
 * membership checked now: nothing from a conversation I have left.
 */
export async function listActivity(gw: Gateway, auth: Actor): Promise<{ items: ActivityItem[] }> {
  const me = auth.member.id
  const s = statements(gw.db)
  const items: ActivityItem[] = s.mentions.all({ memberId: me, limit: ACTIVITY_LIMIT }).map((r) => ({
    kind: 'mention', at: r.createdAt, by: r.author, conversationId: r.conversationId, messageId: r.id, parentId: r.parentId, bodyMd: r.body
  }))
  const doc = await gw.sync.getDoc(docName.me(me))
  const member = new Map<string, boolean>()
  const isMember = (id: string) => {
    if (!member.has(id)) member.set(id, isConversationMember(gw.db, id, me))
    return member.get(id)!
  }
  for (const r of meReactionsToMeOf(doc).values()) {
    if (!isMember(r.conversationId)) continue
    const row = s.message.get(r.messageId)
    // Only reactions the message still has.
    if (!row || !(JSON.parse(row.reactions) as Array<{ emoji: string; memberId: string }>).some((x) => x.memberId === r.by && x.emoji === r.emoji)) continue
    items.push({ kind: 'reaction', at: r.at, by: r.by, conversationId: r.conversationId, messageId: r.messageId, parentId: row.parentId, bodyMd: row.body, emoji: r.emoji })
  }
  for (const t of meTaskMentionsOf(doc).values()) {
    if (t.conversationId ? !isMember(t.conversationId) : isGuest(auth)) continue
    items.push({ kind: 'task_mention', at: t.at, by: t.by, conversationId: t.conversationId, taskId: t.taskId, commentId: t.commentId })
  }
  items.sort((a, b) => b.at - a.at)
  return { items: items.slice(0, ACTIVITY_LIMIT) }
}
