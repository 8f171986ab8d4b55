import type { Db } from '@circlechat/db'
import { badRequest } from '../errors.js'
import { endsWithLongPrefix, toFtsQuery } from './search-query.js'

/** Matches ranked per query: the newest this many the caller can read (see search.ts). */
export const RECENT_WINDOW = 500

/**
 * A word with at least this many readable matches written within HOT_SPAN_MS of each other (a
 * very common word, or one everybody uses today) is ranked over these newest ones only: reading
 * and ranking 500 was most of what such a query cost, and over a window where nearly every
 * message has the word, BM25 has little to tell apart beyond recency. Not below search's page limit.
 */
export const HOT_WINDOW = 100
const HOT_SPAN_MS = 24 * 60 * 60 * 1000

/** Who searches for what. Each store builds its own query from the words of `q` (search-query.ts). */
export interface SearchScope {
  /** The caller: only what this member can read NOW matches (decided in the query). */
  memberId: string
  workspaceId: string
  q: string
  conversationId?: string
  /** Messages written by, or tasks created by, this member id. */
  author?: string
}

export interface MessageScope extends SearchScope {
  /** Also the workspace's public channels the caller is not in. */
  publicChannels: boolean
  /** At most this many matches (default RECENT_WINDOW). */
  window?: number
  /** The last word too as written, not as a prefix (recentMatches). */
  wholeWords?: boolean
}

export interface TaskScope extends SearchScope {
  /** The caller's workspace board, readable by every member of the workspace; null for a guest. */
  workspaceBoard: string | null
}

export interface MessageMatch {
  messageId: string
  conversationId: string
  memberId: string
  createdAt: number
  body: string
}

export interface TaskMatch {
  taskId: string
  conversationId: string | null
  title: string
  body: string
  comments: string
  status: string
  updatedAt: number
}

/**
 * The database side of search: which rows match and who may read them. Both methods return at
 * most RECENT_WINDOW matches (messages: `window`), newest first, deleted rows excluded; search.ts ranks and cuts
 * snippets in JS, the same way whatever the backend. A query the database refuses is a 400.
 * Contract: agent-gateway/test/search-contract.ts, run on SQLite and PostgreSQL.
 */
export interface SearchStore {
  messages(scope: MessageScope): Promise<MessageMatch[]>
  tasks(scope: TaskScope): Promise<TaskMatch[]>
}

/**
 * The matches search.ts ranks: the newest HOT_WINDOW, when they are fewer (every match) or were
 * written within HOT_SPAN_MS of each other, else the newest RECENT_WINDOW. When the last word is
 * a prefix longer than FTS5's indexed ones (3) and no filter is set, the words as typed are tried first: a very common word typed in full is ranked over
 * its own newest HOT_WINDOW, not over theirs and its longer forms'. FTS5 walks one word's matches
 * newest first and stops, but gathers a prefix's matches, of every word it begins, in full
 * before the first (16 ms for a common word at 1M messages, 0.3 ms as a word). The same rule
 * whatever the backend, from what the store returns.
 */
export async function recentMatches(store: SearchStore, scope: MessageScope): Promise<MessageMatch[]> {
  const hot = (rows: MessageMatch[]) => rows.length === HOT_WINDOW && rows[0]!.createdAt - rows.at(-1)!.createdAt <= HOT_SPAN_MS
  // A conversation or author filter leaves few matches: the prefix is cheap there, the first read not.
  if (!scope.conversationId && !scope.author && endsWithLongPrefix(scope.q)) {
    const asTyped = await store.messages({ ...scope, window: HOT_WINDOW, wholeWords: true })
    if (hot(asTyped)) return asTyped
  }
  const newest = await store.messages({ ...scope, window: HOT_WINDOW })
  if (newest.length < HOT_WINDOW || hot(newest)) return newest
  return store.messages({ ...scope, window: RECENT_WINDOW })
}

/** FTS5 (messages_fts, tasks_fts) on the gateway's SQLite connection. */
export function sqliteSearchStore(db: Db): SearchStore {
  const sqlite = db.$client
  return {
    async messages(scope) {
      const match = toFtsQuery(scope.q, scope)
      if (!match) return []
      // Who may read a match: the caller's own conversations (an inner join), or with publicChannels
      // also every public channel of its workspace (private channels and DMs still need membership).
      const access = scope.publicChannels
        ? `CROSS JOIN conversations c ON c.id = m.conversation_id AND c.workspace_id = ?
          LEFT JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?`
        : 'CROSS JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?'
      const params: unknown[] = [...(scope.publicChannels ? [scope.workspaceId] : []), scope.memberId, scopedMatch(match, scope.conversationId, scope.author)]
      // The index narrows by scope token (scopedMatch); the columns decide.
      const filters = (scope.publicChannels ? " AND (cm.member_id IS NOT NULL OR (c.kind = 'channel' AND c.is_private = 0))" : '') +
        equalTo(params, [['m.conversation_id', scope.conversationId], ['m.author', scope.author]])
      params.push(scope.window ?? RECENT_WINDOW)
      // FTS5 iterates rowids in descending order without sorting, so the walk stops at the window.
      // Ranking every match instead cost a common word ~0.3 s at 100k messages, and FTS5's own bm25()
      // walks every posting of each term for its statistics. CROSS JOIN keeps the FTS walk
      // outermost: left to itself the planner may start from the caller's memberships and re-run
      // the whole MATCH once per conversation.
      const recent = `
        SELECT m.id AS messageId, m.conversation_id AS conversationId, m.author AS memberId, m.created_at AS createdAt, m.body
        FROM messages_fts f
        CROSS JOIN messages m ON m.rowid = f.rowid
        ${access}
        WHERE messages_fts MATCH ? AND m.deleted = 0${filters}
        ORDER BY f.rowid DESC
        LIMIT ?`
      return ftsQuery(() => sqlite.prepare(recent).all(...params) as MessageMatch[])
    },

    async tasks(scope) {
      const match = toFtsQuery(scope.q)
      if (!match) return []
      const params: unknown[] = [match, scope.workspaceId, scope.workspaceBoard, scope.memberId]
      const filters = equalTo(params, [['t.board', scope.conversationId], ['t.created_by', scope.author]])
      params.push(RECENT_WINDOW)
      const recent = `
        SELECT t.id AS taskId, t.conversation_id AS conversationId, t.title, t.body, t.comments, t.status, t.updated_at AS updatedAt
        FROM tasks_fts f
        JOIN tasks t ON t.rowid = f.rowid
        WHERE tasks_fts MATCH ? AND t.deleted = 0 AND t.workspace_id = ?
          AND (t.board = ? OR EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = t.board AND cm.member_id = ?))${filters}
        ORDER BY f.rowid DESC
        LIMIT ?`
      return ftsQuery(() => sqlite.prepare(recent).all(...params) as TaskMatch[])
    }
  }
}

/**
 * The words, searched in message bodies only, ANDed with the scope tokens of the filters
 * (migration 0021: `in<conversation>`, `by<author>`), so FTS5 walks only matches inside the
 * filter. Ids are lowercase base32 after their prefix; a token is the id without its `_`.
 */
function scopedMatch(words: string, conversationId: string | undefined, author: string | undefined): string {
  const token = (kind: 'in' | 'by', id: string) => ` AND scope : "${kind}${id.replace(/[^a-z0-9]/g, '')}"`
  return `body : (${words})${conversationId ? token('in', conversationId) : ''}${author ? token('by', author) : ''}`
}

/**
 * Runs an FTS5 query. toFtsQuery only emits quoted phrases, so this is a guard against what we
 * did not foresee: a query FTS5 refuses is the caller's input, a 400, never a 500.
 */
function ftsQuery<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    if (err instanceof Error && /fts5|syntax error|unterminated|no such column/i.test(err.message)) throw unreadableQuery()
    throw err
  }
}

export const unreadableQuery = () => badRequest('invalid_query', 'That search could not be understood; try plain words.')

/** ` AND <column> = ?` for each filter that is set, its value pushed onto `params`. */
function equalTo(params: unknown[], filters: Array<[column: string, value: string | null | undefined]>): string {
  let sql = ''
  for (const [column, value] of filters) {
    if (!value) continue
    sql += ` AND ${column} = ?`
    params.push(value)
  }
  return sql
}
