import type { Db } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import { requireReadable, type Actor } from './conversations.js'
import { MARK_OPEN, rankMatches, snippetHtml, snippetText, toFtsQuery } from './search-query.js'
import { recentMatches, sqliteSearchStore, type SearchStore, type TaskMatch } from './search-store.js'
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

/** Words of context around a match in a snippet (FTS5's snippet() allows up to 64). */
const SNIPPET_TOKENS = 16

// The gateway's data access is still SQLite's (docs/decisions.md, issue 15); pgSearchStore
// (search-store-pg.ts) takes this place once it is not.
const storeOf = (gw: Gateway): SearchStore => sqliteSearchStore(gw.db)

/**
 * Full-text search over the messages the caller can read NOW. Access is part of the query (the
 * store joins conversation_members for the caller), not a filter applied afterwards, so a private
 * channel the caller left, or was never in, cannot leak through a result, a count or a page
 * boundary. Deleted messages are excluded (their body is emptied too). Thread replies are
 * included: they belong to their root's conversation. Two stages: (1) the store returns the newest
 * visible matches (recentMatches: HOT_WINDOW for a very common word, else RECENT_WINDOW) and
 * rankMatches orders them by BM25 over that window, which keeps the cost flat however common the word; (2) snippets only for the page shown, from the bodies
 * already read (snippetText; FTS5's snippet() would re-run the MATCH per row).
 */
export async function search(gw: Gateway, auth: Actor, input: SearchInput): Promise<SearchResult[]> {
  if (!toFtsQuery(input.q)) return []
  // A guest reads only their own conversations, whoever asks on their behalf.
  const publicChannels = (input.publicChannels ?? false) && !isGuest(auth)
  if (input.conversationId) requireReadable(gw, auth, input.conversationId, { publicChannels }) // 404 for non-members
  const author = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (author === undefined) return [] // no such person: nothing they wrote
  const rows = await recentMatches(storeOf(gw), {
    memberId: auth.member.id, workspaceId: auth.workspace.id, q: input.q,
    ...(input.conversationId ? { conversationId: input.conversationId } : {}), ...(author ? { author } : {}), publicChannels
  })
  return rankMatches(rows, input.q).slice(0, input.limit).map((r) => ({
    messageId: r.messageId,
    conversationId: r.conversationId,
    snippet: snippetHtml(snippetText(r.body, input.q, SNIPPET_TOKENS)),
    ts: new Date(r.createdAt).toISOString(),
    memberId: r.memberId
  }))
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
 * Full-text search over tasks (title, description, comments) on the boards the caller can read
 * NOW: their conversations' boards and their workspace's. As for messages, access is in the
 * query. Public channels the caller is not in stay out even with `publicChannels`: a board is
 * read by its conversation's members only. `from` keeps tasks that person created. Ranked as
 * messages are, over the three texts together; the snippet comes from the one with most matches.
 */
export async function searchTasks(gw: Gateway, auth: Actor, input: SearchInput): Promise<TaskSearchResult[]> {
  if (!toFtsQuery(input.q)) return []
  if (input.conversationId) requireReadable(gw, auth, input.conversationId, { publicChannels: input.publicChannels ?? false })
  const creator = input.from ? resolveAuthor(gw.db, auth.workspace.id, input.from) : null
  if (creator === undefined) return []
  const rows = await storeOf(gw).tasks({
    memberId: auth.member.id, workspaceId: auth.workspace.id, q: input.q, workspaceBoard: workspaceBoardOf(auth),
    ...(input.conversationId ? { conversationId: input.conversationId } : {}), ...(creator ? { author: creator } : {})
  })
  const texts = rows.map((r) => ({ task: r, body: `${r.title}\n${r.body}\n${r.comments}` }))
  return rankMatches(texts, input.q).slice(0, input.limit).map(({ task }) => ({
    taskId: task.taskId, conversationId: task.conversationId, title: task.title, status: task.status,
    snippet: snippetHtml(taskSnippet(task, input.q)), updatedAt: task.updatedAt
  }))
}

/** The snippet of the task's text with the most matches, the first of title, body, comments on ties. */
function taskSnippet(task: TaskMatch, q: string): string {
  const marks = (s: string) => s.split(MARK_OPEN).length - 1
  return [task.title, task.body, task.comments]
    .map((text) => snippetText(text, q, SNIPPET_TOKENS))
    .reduce((best, s) => (marks(s) > marks(best) ? s : best))
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
