import type { Db } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import { badRequest } from '../errors.js'
import { requireReadable, type Actor } from './conversations.js'
import { MARK_CLOSE, MARK_OPEN, rankMatches, snippetHtml, snippetText, toFtsQuery } from './search-query.js'
import { isGuest, workspaceBoardOf } from './guests.js'

export interface SearchResult {
  messageId: string
  conversationId: string
  /** HTML: the text around the match, escaped, with matches in `<mark>…</mark>`. */
  snippet: string
  ts: string
  memberId: string
}

export interface SearchInput {
  q: string
  conversationId?: string
  /** A member id or `@handle`. */
  from?: string
  limit: number
  /** Also the workspace's public channels the caller is not in (agents read those; requireReadable). */
  publicChannels?: boolean
}

/** Matches ranked per query: the newest this many the caller can read (see search()). */
export const RECENT_WINDOW = 500
/** Words of context around a match in a snippet (FTS5's snippet() allows up to 64). */
const SNIPPET_TOKENS = 16

/**
 * Full-text search over the messages the caller can read NOW. Access is part of the SQL (a join
 * on conversation_members for the caller), not a filter applied afterwards, so a private channel
 * the caller left, or was never in, cannot leak through a result, a count or a page boundary.
 * Ranked by BM25 among the newest RECENT_WINDOW visible matches; deleted messages are excluded
 * (their body is emptied too). Thread replies are included: they belong to their root's conversation.
 */
export function search(gw: Gateway, auth: Actor, input: SearchInput): SearchResult[] {
  const match = toFtsQuery(input.q)
  if (!match) return []
  // A guest reads only their own conversations, whoever asks on their behalf.
  const publicChannels = (input.publicChannels ?? false) && !isGuest(auth)
  if (input.conversationId) requireReadable(gw, auth, input.conversationId, { publicChannels }) // 404 for non-members
  const author = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (author === undefined) return [] // no such person: nothing they wrote

  // Who may read a match: the caller's own conversations (an inner join), or with publicChannels
  // also every public channel of its workspace (private channels and DMs still need membership).
  const access = publicChannels
    ? `CROSS JOIN conversations c ON c.id = m.conversation_id AND c.workspace_id = ?
      LEFT JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?`
    : 'CROSS JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?'
  const params: unknown[] = [...(publicChannels ? [auth.workspace.id] : []), auth.member.id, scopedMatch(match, input.conversationId, author)]
  let filters = publicChannels ? " AND (cm.member_id IS NOT NULL OR (c.kind = 'channel' AND c.is_private = 0))" : ''
  // The index narrows by scope token (scopedMatch); the columns decide.
  if (input.conversationId) {
    filters += ' AND m.conversation_id = ?'
    params.push(input.conversationId)
  }
  if (author) {
    filters += ' AND m.author = ?'
    params.push(author)
  }
  params.push(RECENT_WINDOW)
  // Two stages. (1) Walk matches newest first (FTS5 iterates rowids in descending order without
  // sorting), keep those the caller may read, stop at RECENT_WINDOW, and rank those by BM25 over
  // that window (rankMatches). Ranking every match instead cost a common word ~0.3 s at 100k
  // messages, and FTS5's own bm25() still walks every posting of each term for its statistics;
  // a window keeps the cost flat. (2) Snippets only for the page shown, from the bodies already
  // read (snippetText), not FTS5's snippet(), which re-runs the MATCH per row. CROSS JOIN keeps the FTS
  // walk outermost: left to itself the planner may start from the caller's memberships and
  // re-run the whole MATCH once per conversation.
  const recent = `
    SELECT f.rowid AS rid, m.id AS messageId, m.conversation_id AS conversationId, m.author AS memberId, m.created_at AS createdAt, m.body
    FROM messages_fts f
    CROSS JOIN messages m ON m.rowid = f.rowid
    ${access}
    WHERE messages_fts MATCH ? AND m.deleted = 0${filters}
    ORDER BY f.rowid DESC
    LIMIT ?`
  type Row = { rid: number; messageId: string; conversationId: string; memberId: string; createdAt: number; body: string }
  const rows = ftsQuery(() => rankMatches(gw.db.$client.prepare(recent).all(...params) as Row[], input.q).slice(0, input.limit))
  return rows.map((r) => ({
    messageId: r.messageId,
    conversationId: r.conversationId,
    snippet: snippetHtml(snippetText(r.body, input.q, SNIPPET_TOKENS)),
    ts: new Date(r.createdAt).toISOString(),
    memberId: r.memberId
  }))
}

/**
 * The words, searched in message bodies only, ANDed with the scope tokens of the filters
 * (migration 0021: `in<conversation>`, `by<author>`), so FTS5 walks only matches inside the
 * filter. Ids are lowercase base32 after their prefix; a token is the id without its `_`.
 */
function scopedMatch(words: string, conversationId: string | undefined, author: string | null): string {
  const token = (kind: 'in' | 'by', id: string) => ` AND scope : "${kind}${id.replace(/[^a-z0-9]/g, '')}"`
  return `body : (${words})${conversationId ? token('in', conversationId) : ''}${author ? token('by', author) : ''}`
}

export interface TaskSearchResult {
  taskId: string
  /** null: the workspace board. */
  conversationId: string | null
  title: string
  status: string
  /** HTML, as for messages: the best-matching part of title, description or comments. */
  snippet: string
  updatedAt: number
}

/**
 * Full-text search over tasks (title, description, comments; tasks_fts) on the boards the caller
 * can read NOW: their conversations' boards and their workspace's. As for messages, access is in
 * the SQL. Public channels the caller is not in stay out even with `publicChannels`: a board is
 * read by its conversation's members only. `from` keeps tasks that person created.
 */
export function searchTasks(gw: Gateway, auth: Actor, input: SearchInput): TaskSearchResult[] {
  const match = toFtsQuery(input.q)
  if (!match) return []
  if (input.conversationId) requireReadable(gw, auth, input.conversationId, { publicChannels: input.publicChannels ?? false })
  const creator = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (creator === undefined) return []
  const params: unknown[] = [match, auth.workspace.id, workspaceBoardOf(auth), auth.member.id]
  let filters = ''
  if (input.conversationId) {
    filters += ' AND t.board = ?'
    params.push(input.conversationId)
  }
  if (creator) {
    filters += ' AND t.created_by = ?'
    params.push(creator)
  }
  params.push(RECENT_WINDOW, input.limit)
  // Same two stages as search(): the newest RECENT_WINDOW visible matches, ranked by FTS5's bm25()
  // (its walk of every posting is cheap here: boards hold far fewer tasks than history messages).
  const ranked = `
    SELECT t.rowid AS rid, t.id AS taskId, t.conversation_id AS conversationId, t.title, t.status, t.updated_at AS updatedAt, score
    FROM (
      SELECT f.rowid AS rid, bm25(tasks_fts) AS score
      FROM tasks_fts f
      JOIN tasks t ON t.rowid = f.rowid
      WHERE tasks_fts MATCH ? AND t.deleted = 0 AND t.workspace_id = ?
        AND (t.board = ? OR EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = t.board AND cm.member_id = ?))${filters}
      ORDER BY f.rowid DESC
      LIMIT ?
    ) hits
    JOIN tasks t ON t.rowid = hits.rid
    ORDER BY score
    LIMIT ?`
  return ftsQuery(() => {
    const sqlite = gw.db.$client
    const rows = sqlite.prepare(ranked).all(...params) as Array<Omit<TaskSearchResult, 'snippet'> & { rid: number; score: number }>
    const snippet = sqlite.prepare(`SELECT snippet(tasks_fts, -1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_TOKENS}) FROM tasks_fts WHERE tasks_fts MATCH ? AND rowid = CAST(? AS INTEGER)`).pluck()
    return rows.map((r) => ({
      taskId: r.taskId, conversationId: r.conversationId, title: r.title, status: r.status,
      snippet: snippetHtml((snippet.get(match, r.rid) as string | undefined) ?? ''), updatedAt: r.updatedAt
    }))
  })
}

/**
 * Runs an FTS5 query. toFtsQuery only emits quoted phrases, so this is a guard against what we
 * did not foresee: a query FTS5 refuses is the caller's input, a 400, never a 500.
 */
function ftsQuery<T>(run: () => T): T {
  try {
    return run()
  } catch (err) {
    if (err instanceof Error && /fts5|syntax error|unterminated|no such column/i.test(err.message)) {
      throw badRequest('invalid_query', 'That search could not be understood; try plain words.')
    }
    throw err
  }
}

/** `@handle` or a member id → member id in the caller's workspace; undefined if there is none. */
function resolveAuthor(db: Db, workspaceId: string, from: string): string | undefined {
  const sqlite = db.$client
  const handle = from.startsWith('@') ? from.slice(1).toLowerCase() : null
  const row = handle
    ? sqlite.prepare('SELECT id FROM members WHERE workspace_id = ? AND handle = ?').pluck().get(workspaceId, handle)
    : sqlite.prepare('SELECT id FROM members WHERE workspace_id = ? AND id = ?').pluck().get(workspaceId, from)
  return (row as string | undefined) ?? undefined
}
