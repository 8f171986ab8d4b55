import type { Statement } from 'better-sqlite3'
import type { Db } from '@circlechat/db'
import { docName, markRead, meReadsOf, setUnread, type UnreadCount } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { requireMembership } from './conversations.js'

/**
 * Unread counts, computed from the `messages` index against the member's read marker (the
 * `reads` map of their `me:` doc) and published as the server-only `unread` map of that doc, so
 * every tab of a member sees the same figure. Counting (not incrementing) keeps the figure exact
 * after edits, deletes and missed events: each recompute is a fresh COUNT over the index
 * `messages_conv_time (conversation_id, parent_id, created_at)`, so its cost is the number of
 * unread messages, not the size of the conversation.
 */

/**
 * Figures stop at this many (a client shows "999+"): the cost of a recompute is bounded by it.
 * Mentions are counted among the same newest messages.
 */
export const UNREAD_CAP = 999

/** The origin of every server write of `unread` (never mistaken for a member's edit). */
export const UNREAD_ORIGIN = { source: 'server', reason: 'unread' } as const

interface Statements {
  count: Statement<[{ conversationId: string; memberId: string; since: number }], { count: number; mentions: number | null }>
  newest: Statement<[string], number | null>
  isMember: Statement<[string, string], number>
  conversationsOf: Statement<[string], string>
  membersOf: Statement<[string], string>
}

// Prepared once per database; a WeakMap, not a module singleton, so several servers never share.
const cache = new WeakMap<Db, Statements>()

function statements(db: Db): Statements {
  let s = cache.get(db)
  if (!s) {
    const sqlite = db.$client
    s = {
      // Top-level, live, not mine, newer than my marker; mentions = those naming me or everyone.
      // Newest first and capped, so one post to a big channel full of people who never opened
      // it costs members × UNREAD_CAP rows at most, not members × its whole history.
      count: sqlite.prepare(`
        SELECT count(*) AS count,
               sum(EXISTS (SELECT 1 FROM json_each(u.mentions) j WHERE j.value IN (@memberId, 'everyone', 'channel'))) AS mentions
        FROM (
          SELECT m.mentions FROM messages m
          WHERE m.conversation_id = @conversationId AND m.parent_id IS NULL AND m.created_at > @since AND m.deleted = 0 AND m.author <> @memberId
          ORDER BY m.created_at DESC
          LIMIT ${UNREAD_CAP}
        ) u`),
      newest: sqlite.prepare('SELECT max(created_at) FROM messages WHERE conversation_id = ? AND parent_id IS NULL').pluck(),
      isMember: sqlite.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck(),
      conversationsOf: sqlite.prepare('SELECT conversation_id FROM conversation_members WHERE member_id = ?').pluck(),
      // People only: agents read through packets and REST (computed from SQL there), so keeping
      // their me: docs' badges current would be writes nobody reads, on every post.
      membersOf: sqlite.prepare(`SELECT cm.member_id FROM conversation_members cm JOIN members m ON m.id = cm.member_id
        WHERE cm.conversation_id = ? AND m.kind = 'user'`).pluck()
    } as unknown as Statements
    cache.set(db, s)
  }
  return s
}

/** One member's unread figure for one conversation, given their read marker (ms, 0 = never). */
export function countUnread(db: Db, conversationId: string, memberId: string, readUpTo: number): UnreadCount {
  const row = statements(db).count.get({ conversationId, memberId, since: readUpTo })
  return { count: row?.count ?? 0, mentions: row?.mentions ?? 0 }
}

export const isMemberOf = (db: Db, conversationId: string, memberId: string) =>
  statements(db).isMember.get(conversationId, memberId) === 1
export const conversationIdsOf = (db: Db, memberId: string) => statements(db).conversationsOf.all(memberId)
export const peopleOf = (db: Db, conversationId: string) => statements(db).membersOf.all(conversationId)

/**
 * Unread figures for REST answers (`GET /api/conversations`), computed now from SQLite and the
 * member's read markers, so the answer is right even before the live tracker has caught up.
 */
export async function unreadFor(gw: Pick<Gateway, 'db' | 'sync'>, memberId: string, conversationIds: string[]): Promise<Map<string, UnreadCount>> {
  const reads = meReadsOf(await gw.sync.getDoc(docName.me(memberId)))
  const out = new Map<string, UnreadCount>()
  for (const id of conversationIds) out.set(id, countUnread(gw.db, id, memberId, reads.get(id) ?? 0))
  return out
}

/**
 * Recomputes and publishes one member's figure for one conversation. The count runs inside the
 * doc transaction, so it reads the marker as it is at that instant: two recomputes racing each
 * other both read fresh state, and the later one wins with the fresher figure. A member who has
 * left gets nothing (their entry was removed with the conversation).
 */
export async function refreshUnread(gw: Pick<Gateway, 'db' | 'sync'>, memberId: string, conversationId: string): Promise<UnreadCount | null> {
  return gw.sync.transact(docName.me(memberId), UNREAD_ORIGIN, (doc) => {
    if (!isMemberOf(gw.db, conversationId, memberId)) return null
    const unread = countUnread(gw.db, conversationId, memberId, meReadsOf(doc).get(conversationId) ?? 0)
    setUnread(doc, conversationId, unread)
    return unread
  })
}

/**
 * `POST /api/conversations/:id/read`: moves the caller's marker to the newest top-level message
 * (never backwards: markRead keeps the later of two tabs' markers) and republishes the figure.
 */
export async function markConversationRead(gw: Gateway, auth: AuthContext, conversationId: string): Promise<UnreadCount> {
  requireMembership(gw, auth, conversationId)
  const newest = statements(gw.db).newest.get(conversationId) ?? 0
  const me = docName.me(auth.member.id)
  await gw.sync.transact(me, { source: 'rest', memberId: auth.member.id }, (doc) => markRead(doc, conversationId, newest))
  return (await refreshUnread(gw, auth.member.id, conversationId)) ?? { count: 0, mentions: 0 }
}
