import type { Db } from '@circlechat/db'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest } from '../errors.js'
import { requireReadable } from './conversations.js'
import { MARK_CLOSE, MARK_OPEN, snippetHtml, toFtsQuery } from './search-query.js'

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
export const RECENT_WINDOW = 2000
/** Words of context around a match in a snippet (FTS5 allows up to 64). */
const SNIPPET_TOKENS = 16

/**
 * Full-text search over the messages the caller can read NOW. Access is part of the SQL (a join
 * on conversation_members for the caller), not a filter applied afterwards, so a private channel
 * the caller left, or was never in, cannot leak through a result, a count or a page boundary.
 * Ranked by bm25 among the newest RECENT_WINDOW visible matches; deleted messages are excluded
 * (their body is emptied too). Thread replies are included: they belong to their root's conversation.
 */
export function search(gw: Gateway, auth: AuthContext, input: SearchInput): SearchResult[] {
  const match = toFtsQuery(input.q)
  if (!match) return []
  const publicChannels = input.publicChannels ?? false
  if (input.conversationId) requireReadable(gw, auth, input.conversationId, { publicChannels }) // 404 for non-members
  const author = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (author === undefined) return [] // no such person: nothing they wrote

  // Who may read a match: the caller's own conversations (an inner join), or with publicChannels
  // also every public channel of its workspace (private channels and DMs still need membership).
  const access = publicChannels
    ? `JOIN conversations c ON c.id = m.conversation_id AND c.workspace_id = ?
      LEFT JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?`
    : 'JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?'
  const params: unknown[] = [...(publicChannels ? [auth.workspace.id] : []), auth.member.id, match]
  let filters = publicChannels ? " AND (cm.member_id IS NOT NULL OR (c.kind = 'channel' AND c.is_private = 0))" : ''
  if (input.conversationId) {
    filters += ' AND m.conversation_id = ?'
    params.push(input.conversationId)
  }
  if (author) {
    filters += ' AND m.author = ?'
    params.push(author)
  }
  params.push(RECENT_WINDOW, input.limit)
  // Two stages. (1) Walk matches newest first (FTS5 iterates rowids in descending order without
  // sorting), keep those the caller may read, stop at RECENT_WINDOW, and rank those by bm25.
  // Ranking every match instead cost a common word ~0.3 s at 100k messages and grows with the
  // index; a window keeps the cost flat. For rarer queries (fewer visible matches than the
  // window) the ranking is exactly bm25 over all of them. (2) Snippets only for the page shown.
  const ranked = `
    SELECT m.rowid AS rid, m.id AS messageId, m.conversation_id AS conversationId, m.author AS memberId, m.created_at AS createdAt, score
    FROM (
      SELECT f.rowid AS rid, bm25(messages_fts) AS score
      FROM messages_fts f
      JOIN messages m ON m.rowid = f.rowid
      ${access}
      WHERE messages_fts MATCH ? AND m.deleted = 0${filters}
      ORDER BY f.rowid DESC
      LIMIT ?
    ) hits
    JOIN messages m ON m.rowid = hits.rid
    ORDER BY score
    LIMIT ?`
  let rows: Array<{ rid: number; messageId: string; conversationId: string; memberId: string; createdAt: number; score: number }>
  const snippets = new Map<number, string>()
  try {
    const sqlite = gw.db.$client
    rows = sqlite.prepare(ranked).all(...params) as typeof rows
    const snippet = sqlite.prepare(`SELECT snippet(messages_fts, 0, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_TOKENS}) FROM messages_fts WHERE messages_fts MATCH ? AND rowid = CAST(? AS INTEGER)`).pluck()
    for (const r of rows) snippets.set(r.rid, (snippet.get(match, r.rid) as string | undefined) ?? '')
  } catch (err) {
    // toFtsQuery only emits quoted phrases, so this is a guard against what we did not foresee:
    // a query FTS5 refuses is the caller's input, a 400, never a 500.
    if (err instanceof Error && /fts5|syntax error|unterminated|no such column/i.test(err.message)) {
      throw badRequest('invalid_query', 'That search could not be understood; try plain words.')
    }
    throw err
  }
  return rows.map((r) => ({
    messageId: r.messageId,
    conversationId: r.conversationId,
    snippet: snippetHtml(snippets.get(r.rid) ?? ''),
    ts: new Date(r.createdAt).toISOString(),
    memberId: r.memberId
  }))
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
