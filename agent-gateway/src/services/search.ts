import type { Db } from '@circlechat/db'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest } from '../errors.js'
import { requireMembership } from './conversations.js'
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
}

/** Words of context around a match in a snippet (FTS5 allows up to 64). */
const SNIPPET_TOKENS = 16

/**
 * Full-text search over the messages the caller can read NOW. Access is part of the SQL (a join
 * on conversation_members for the caller), not a filter applied afterwards, so a private channel
 * the caller left, or was never in, cannot leak through a result, a count or a page boundary.
 * Ranked by bm25; deleted messages are excluded (their body is emptied too). Thread replies are
 * included: they belong to the conversation of their root.
 */
export function search(gw: Gateway, auth: AuthContext, input: SearchInput): SearchResult[] {
  const match = toFtsQuery(input.q)
  if (!match) return []
  if (input.conversationId) requireMembership(gw, auth, input.conversationId) // 404 for non-members
  const author = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (author === undefined) return [] // no such person: nothing they wrote

  const params: unknown[] = [auth.member.id, match]
  let filters = ''
  if (input.conversationId) {
    filters += ' AND m.conversation_id = ?'
    params.push(input.conversationId)
  }
  if (author) {
    filters += ' AND m.author = ?'
    params.push(author)
  }
  params.push(input.limit)
  const sql = `
    SELECT m.id AS messageId, m.conversation_id AS conversationId, m.author AS memberId, m.created_at AS createdAt,
           snippet(messages_fts, 0, '${MARK_OPEN}', '${MARK_CLOSE}', '…', ${SNIPPET_TOKENS}) AS raw
    FROM messages_fts
    JOIN messages m ON m.rowid = messages_fts.rowid
    JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.member_id = ?
    WHERE messages_fts MATCH ? AND m.deleted = 0${filters}
    ORDER BY bm25(messages_fts)
    LIMIT ?`
  let rows: Array<{ messageId: string; conversationId: string; memberId: string; createdAt: number; raw: string }>
  try {
    rows = gw.db.$client.prepare(sql).all(...params) as typeof rows
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
    snippet: snippetHtml(r.raw),
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
