import type { Statement } from 'better-sqlite3'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { conversationMembers, messages, threadFollows, type Db } from '@circlechat/db'
import { docName, meThreadsOf, partitionMentions, putFollowedThread, type FollowedThread, type Message } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { badRequest, notFound } from '../errors.js'
import type { Actor } from './conversations.js'
import { messageRowShape, type MessageJson } from './shapes.js'

const ORIGIN = { source: 'server', reason: 'thread follows' } as const

/** Followed threads GET /api/threads lists, the newest reply first (the me doc keeps as many). */
const LIST_LIMIT = 200

interface Root { id: string; conversationId: string; parentId: string | null; author: string; mentions: string; createdAt: number }
interface Last { author: string; createdAt: number }

interface Statements {
  root: Statement<[string], Root>
  lastReply: Statement<[string], Last>
  /** The id of a thread's newest reply that is not deleted (its preview in the Threads view). */
  lastLiveReply: Statement<[string], string>
  /** Candidates who are people in the conversation now (agents follow through their triggers). */
  person: Statement<[{ conversationId: string; memberId: string }], string>
  follow: Statement<[{ rootId: string; memberId: string; conversationId: string; following: number; at: number }]>
  followIfNew: Statement<[{ rootId: string; memberId: string; conversationId: string; at: number }]>
  followers: Statement<[{ rootId: string; conversationId: string }], string>
}

// Prepared once per database (as services/unread.ts).
const cache = new WeakMap<Db, Statements>()

function statements(db: Db): Statements {
  let s = cache.get(db)
  if (!s) {
    const sqlite = db.$client
    s = {
      root: sqlite.prepare(`SELECT id, conversation_id AS conversationId, parent_id AS parentId, author, mentions, created_at AS createdAt
        FROM messages WHERE id = ?`),
      lastReply: sqlite.prepare('SELECT author, created_at AS createdAt FROM messages WHERE parent_id = ? ORDER BY created_at DESC LIMIT 1'),
      lastLiveReply: sqlite.prepare('SELECT id FROM messages WHERE parent_id = ? AND deleted = 0 ORDER BY created_at DESC LIMIT 1').pluck(),
      person: sqlite.prepare(`SELECT m.id FROM conversation_members cm JOIN members m ON m.id = cm.member_id
        WHERE cm.conversation_id = @conversationId AND cm.member_id = @memberId AND m.kind = 'user' AND m.deactivated = 0`).pluck(),
      follow: sqlite.prepare(`INSERT INTO thread_follows (root_id, member_id, conversation_id, following, at)
        VALUES (@rootId, @memberId, @conversationId, @following, @at)
        ON CONFLICT (root_id, member_id) DO UPDATE SET following = excluded.following, at = excluded.at`),
      followIfNew: sqlite.prepare(`INSERT INTO thread_follows (root_id, member_id, conversation_id, following, at)
        VALUES (@rootId, @memberId, @conversationId, 1, @at) ON CONFLICT DO NOTHING`),
      // Followers still in the conversation: one primary-key range, so a reply costs O(followers).
      followers: sqlite.prepare(`SELECT f.member_id FROM thread_follows f
        JOIN conversation_members cm ON cm.conversation_id = @conversationId AND cm.member_id = f.member_id
        WHERE f.root_id = @rootId AND f.following = 1`).pluck()
    } as unknown as Statements
    cache.set(db, s)
  }
  return s
}

const directMentions = (json: string) => partitionMentions(JSON.parse(json) as string[]).direct

/** Writes `thread` into each member's me doc unless the entry there is newer (replies may race). */
async function publish(gw: Pick<Gateway, 'sync'>, memberIds: Iterable<string>, rootId: string, thread: FollowedThread) {
  await Promise.all([...memberIds].map((id) =>
    gw.sync.transact(docName.me(id), ORIGIN, (doc) => {
      const cur = meThreadsOf(doc).get(rootId)
      if (!cur || cur.lastReplyAt <= thread.lastReplyAt) putFollowedThread(doc, rootId, thread)
    })
  ))
}

/**
 * A new reply, from any writer (the relay's change feed): its author and the people it names
 * follow the thread, and so does whoever started it (and those the root names) unless they
 * unfollowed; then every follower's me doc learns of the reply. Broadcast mentions do not follow:
 * they would make the whole channel follow one thread.
 */
export async function noteReply(gw: Pick<Gateway, 'db' | 'sync'>, conversationId: string, reply: Message): Promise<void> {
  if (!reply.parentId) return
  const s = statements(gw.db)
  const root = s.root.get(reply.parentId)
  if (!root) return
  const rootId = root.id
  const at = reply.createdAt
  const person = (memberId: string) => !!s.person.get({ conversationId, memberId })
  gw.db.$client.transaction(() => {
    for (const memberId of new Set([reply.author, ...partitionMentions(reply.mentions).direct])) {
      if (person(memberId)) s.follow.run({ rootId, memberId, conversationId, following: 1, at })
    }
    for (const memberId of new Set([root.author, ...directMentions(root.mentions)])) {
      if (person(memberId)) s.followIfNew.run({ rootId, memberId, conversationId, at })
    }
  })()
  await publish(gw, s.followers.all({ rootId, conversationId }), rootId, { conversationId, lastReplyAt: at, lastReplyBy: reply.author })
}

/** Follows or unfollows a thread by its root message, which the member must be able to read. */
export async function setFollowing(gw: Gateway, auth: Actor, rootId: string, following: boolean): Promise<void> {
  const s = statements(gw.db)
  const root = s.root.get(rootId)
  if (!root || !s.person.get({ conversationId: root.conversationId, memberId: auth.member.id })) {
    throw notFound('message_not_found', 'No such message, or you are not a member of its conversation.')
  }
  if (root.parentId) throw badRequest('not_a_thread', 'Follow a thread by its root message, not by a reply.')
  s.follow.run({ rootId, memberId: auth.member.id, conversationId: root.conversationId, following: following ? 1 : 0, at: Date.now() })
  if (!following) {
    await gw.sync.transact(docName.me(auth.member.id), ORIGIN, (doc) => meThreadsOf(doc).delete(rootId))
    return
  }
  const last = s.lastReply.get(rootId)
  await publish(gw, [auth.member.id], rootId, {
    conversationId: root.conversationId,
    lastReplyAt: last?.createdAt ?? root.createdAt,
    lastReplyBy: last?.author ?? null
  })
}

/** A followed thread's root with its newest reply that is not deleted (null when there is none). */
export type FollowedThreadJson = MessageJson & { lastReply: MessageJson | null }

/** The threads I follow in conversations I am in now, the newest reply first. */
export function listFollowed(gw: Gateway, auth: Actor): { threads: FollowedThreadJson[] } {
  // Membership is checked now: a thread of a conversation I left is not listed.
  const rows = gw.db.select({ m: messages }).from(threadFollows)
    .innerJoin(conversationMembers, and(eq(conversationMembers.conversationId, threadFollows.conversationId), eq(conversationMembers.memberId, threadFollows.memberId)))
    .innerJoin(messages, eq(messages.id, threadFollows.rootId))
    .where(and(eq(threadFollows.memberId, auth.member.id), eq(threadFollows.following, true)))
    .orderBy(desc(sql`coalesce(${messages.lastReplyAt}, ${messages.createdAt})`))
    .limit(LIST_LIMIT).all()
  // One index lookup per root (messages_parent), then the replies in one read.
  const s = statements(gw.db)
  const lastIds = new Map(rows.flatMap((r) => {
    const id = s.lastLiveReply.get(r.m.id)
    return id ? [[r.m.id, id] as const] : []
  }))
  const replies = lastIds.size === 0 ? [] : gw.db.select().from(messages).where(inArray(messages.id, [...lastIds.values()])).all()
  const byId = new Map(replies.map((m) => [m.id, messageRowShape(m)]))
  return { threads: rows.map((r) => ({ ...messageRowShape(r.m), lastReply: byId.get(lastIds.get(r.m.id) ?? '') ?? null })) }
}
