import type { Statement } from 'better-sqlite3'
import type * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import { docName, markRead, meReadsOf, meUnreadOf, setUnread, type UnreadCount } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { requireMembership } from './conversations.js'

/**
 * Unread counts, computed from the `messages` index against the member's read marker (the
 * `reads` map of their `me:` doc) and published as the server-only `unread` map of that doc, so
 * every tab of a member sees the same figure.
 *
 * A recount (`refreshUnread`) is a fresh COUNT over `messages_conv_time` from the marker; it is
 * exact after edits, deletes and missed events, but reads every row since the marker, the
 * member's own included (a poster who never reads rereads their whole history). New messages
 * therefore advance the figure instead (`advanceUnread`): the stored figure stays the truth and
 * only rows added since it was computed are counted. Message rows are never deleted and rowids
 * only grow, so "added since" is `rowid > the max rowid seen by that computation`, read in the
 * same statement as the count. A figure is advanced only while the marker it was counted from
 * and the figure itself are unchanged; anything else (an edit, a delete, a marker move, too many
 * rows since, a capped figure whose mentions could shift) recounts.
 */

/**
 * Figures stop at this many (a client shows "999+"); mentions are counted among the same newest
 * messages. A recount stops after this many matches (rows it rejects on the way still cost).
 */
export const UNREAD_CAP = 999

/** An advance reads at most this many rows added since (in any conversation); beyond, recount. */
const ADVANCE_ROWS = 4 * UNREAD_CAP

/** Figures remembered for advancing, per database (~150 B each); a forgotten one is recounted. */
const BASES_LIMIT = 10_000

/** The origin of every server write of `unread` (never mistaken for a member's edit). */
export const UNREAD_ORIGIN = { source: 'server', reason: 'unread' } as const

/** `member`: whether the member is (still) in the conversation, read in the same statement. */
interface Counted { member: 0 | 1; top: number | null; count: number; mentions: number | null }

const IS_MEMBER = 'EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = @conversationId AND member_id = @memberId) AS member'

interface Statements {
  count: Statement<[{ conversationId: string; memberId: string; since: number }], Counted>
  added: Statement<[{ conversationId: string; memberId: string; since: number; after: number; rows: number }], Counted>
  newest: Statement<[string], number | null>
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
      // Newest first, stopping at UNREAD_CAP matches. `top` (the newest row now) is read in the
      // same statement: the snapshot the figure was counted on.
      count: sqlite.prepare(`
        SELECT ${IS_MEMBER}, (SELECT max(rowid) FROM messages) AS top, count(*) AS count,
               sum(EXISTS (SELECT 1 FROM json_each(u.mentions) j WHERE j.value IN (@memberId, 'everyone', 'channel'))) AS mentions
        FROM (
          SELECT m.mentions FROM messages m
          WHERE m.conversation_id = @conversationId AND m.parent_id IS NULL AND m.created_at > @since AND m.deleted = 0 AND m.author <> @memberId
          ORDER BY m.created_at DESC
          LIMIT ${UNREAD_CAP}
        ) u`),
      // The same filter over rows added after `after` only: NOT INDEXED keeps the planner on the
      // rowid range (a bounded slice of the table) instead of a conversation index from the marker.
      added: sqlite.prepare(`
        SELECT ${IS_MEMBER}, (SELECT max(rowid) FROM messages) AS top, count(*) AS count,
               sum(EXISTS (SELECT 1 FROM json_each(m.mentions) j WHERE j.value IN (@memberId, 'everyone', 'channel'))) AS mentions
        FROM messages m NOT INDEXED
        WHERE m.rowid > @after AND m.rowid <= @after + @rows
          AND m.conversation_id = @conversationId AND m.parent_id IS NULL AND m.created_at > @since AND m.deleted = 0 AND m.author <> @memberId`),
      newest: sqlite.prepare('SELECT max(created_at) FROM messages WHERE conversation_id = ? AND parent_id IS NULL').pluck(),
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
  return figure(statements(db).count.get({ conversationId, memberId, since: readUpTo }))
}

const figure = (row: Counted | undefined): UnreadCount => ({ count: row?.count ?? 0, mentions: row?.mentions ?? 0 })

/** What a published figure was counted from: the marker and the newest row it saw. */
interface Basis { since: number; top: number; count: number; mentions: number }

const bases = new WeakMap<Db, Map<string, Basis>>()

function basesOf(db: Db): Map<string, Basis> {
  let m = bases.get(db)
  if (!m) bases.set(db, (m = new Map()))
  return m
}

/** Least recently used first, bounded by BASES_LIMIT. */
function remember(db: Db, key: string, basis: Basis) {
  const m = basesOf(db)
  m.delete(key)
  m.set(key, basis)
  if (m.size > BASES_LIMIT) m.delete(m.keys().next().value!)
}

/**
 * `stored` plus what was added since, or null when that cannot be exact: past the cap the
 * figure counts mentions among the newest UNREAD_CAP only, and new rows push old ones out.
 */
function advance(stored: UnreadCount, added: UnreadCount): UnreadCount | null {
  if (added.count === 0) return stored
  if (stored.count < UNREAD_CAP) {
    const count = stored.count + added.count
    return count <= UNREAD_CAP ? { count, mentions: stored.mentions + added.mentions } : null
  }
  return stored.mentions === 0 && added.mentions === 0 ? stored : null
}

/**
 * Recounts (or, with `advanceOnly`, advances when it can) inside the me doc transaction, so the
 * marker, the stored figure, the count and the remembered basis are read and written at one
 * instant: two passes racing each other both see fresh state, and the later one wins.
 */
function publish(gw: Pick<Gateway, 'db' | 'sync'>, memberId: string, conversationId: string, advanceOnly: boolean, only?: Y.Doc): Promise<UnreadCount | null> {
  return gw.sync.transact(docName.me(memberId), UNREAD_ORIGIN, (doc) => {
    if (only && doc !== only) return null // cluster: no longer this process's instance, so not its figure
    const since = meReadsOf(doc).get(conversationId) ?? 0
    const key = `${conversationId} ${memberId}`
    const stored = meUnreadOf(doc).get(conversationId)
    const basis = basesOf(gw.db).get(key)
    let counted: { unread: UnreadCount; top: number } | null = null
    // Whichever statement runs first also says whether the member is still in the conversation.
    if (advanceOnly && stored && basis && basis.since === since && basis.count === stored.count && basis.mentions === stored.mentions) {
      const row = statements(gw.db).added.get({ conversationId, memberId, since, after: basis.top, rows: ADVANCE_ROWS })!
      if (!row.member) return null
      const top = row.top ?? 0
      const unread = top <= basis.top + ADVANCE_ROWS ? advance(stored, figure(row)) : null
      if (unread) counted = { unread, top }
    }
    if (!counted) {
      const row = statements(gw.db).count.get({ conversationId, memberId, since })!
      if (!row.member) return null
      counted = { unread: figure(row), top: row.top ?? 0 }
    }
    remember(gw.db, key, { since, top: counted.top, ...counted.unread })
    setUnread(doc, conversationId, counted.unread)
    return counted.unread
  })
}

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
 * Recounts and publishes one member's figure for one conversation. A member who has left gets
 * nothing (their entry was removed with the conversation).
 */
export const refreshUnread = (gw: Pick<Gateway, 'db' | 'sync'>, memberId: string, conversationId: string, only?: Y.Doc) =>
  publish(gw, memberId, conversationId, false, only)

/**
 * After new messages: the stored figure plus the rows added since it was counted, in O(rows
 * added); a recount when that would not be exact (see the top of this file).
 */
export const advanceUnread = (gw: Pick<Gateway, 'db' | 'sync'>, memberId: string, conversationId: string, only?: Y.Doc) =>
  publish(gw, memberId, conversationId, true, only)

/**
 * `POST /api/conversations/:id/read`: moves the caller's marker to the newest top-level message
 * (never backwards: markRead keeps the later of two tabs' markers) and republishes the figure.
 */
export async function markConversationRead(gw: Gateway, auth: AuthContext, conversationId: string): Promise<UnreadCount> {
  requireMembership(gw, auth, conversationId)
  const newest = statements(gw.db).newest.get(conversationId) ?? 0
  const me = docName.me(auth.member.id)
  const marker = await gw.sync.transact(me, { source: 'rest', memberId: auth.member.id }, (doc) => {
    markRead(doc, conversationId, newest)
    return meReadsOf(doc).get(conversationId) ?? newest
  })
  // Cluster: the me doc's owner recounts on the marker (unread-tracker.ts); written from here, the
  // figure could come from a follower's copy that lacks a commit the owner has counted.
  if (gw.config.cluster) return countUnread(gw.db, conversationId, auth.member.id, marker)
  return (await refreshUnread(gw, auth.member.id, conversationId)) ?? { count: 0, mentions: 0 }
}
