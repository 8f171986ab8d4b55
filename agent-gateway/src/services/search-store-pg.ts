import type { PgDb } from '@circlechat/db/pg'
import { toTsQuery } from './search-query.js'
import { RECENT_WINDOW, unreadableQuery, type SearchStore } from './search-store.js'

/**
 * PostgreSQL full-text search (migration drizzle-pg/0003): the generated `search` tsvectors and
 * their GIN indexes, matched against toTsQuery's quoted lexemes in the `circlechat_search`
 * configuration (simple + unaccent: case and accents folded as FTS5's unicode61 folds them).
 * Access is in the query, as on SQLite. Without rowids, newest first is `created_at` then id:
 * the order SQLite's rowids have, since rows are indexed as they are written.
 */
export function pgSearchStore(db: PgDb): SearchStore {
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    try {
      return (await db.$client.query(sql, params)).rows as T[]
    } catch (err) {
      // toTsQuery quotes every word, so this is a guard: a tsquery PostgreSQL refuses is the caller's input.
      if ((err as { code?: string }).code === '42601') throw unreadableQuery()
      throw err
    }
  }
  return {
    async messages(scope) {
      const tsquery = toTsQuery(scope.q, scope)
      if (!tsquery) return []
      const params: unknown[] = [tsquery, scope.memberId]
      const param = (value: unknown) => `$${params.push(value)}`
      // The conversations the caller reads, as an array computed once (an InitPlan): joined
      // instead, the planner starts from the memberships and runs the GIN scan once per
      // conversation (150 of them: 9 ms became 150 ms at 20k messages, bench/search-store.ts).
      const readable = scope.publicChannels
        ? `SELECT c.id FROM conversations c WHERE c.workspace_id = ${param(scope.workspaceId)}
            AND ((c.kind = 'channel' AND NOT c.is_private) OR EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = c.id AND cm.member_id = $2))`
        : 'SELECT conversation_id FROM conversation_members WHERE member_id = $2'
      let filters = ''
      if (scope.conversationId) filters += ` AND m.conversation_id = ${param(scope.conversationId)}`
      if (scope.author) filters += ` AND m.author = ${param(scope.author)}`
      return query(`
        SELECT m.id AS "messageId", m.conversation_id AS "conversationId", m.author AS "memberId", m.created_at::float8 AS "createdAt", m.body
        FROM messages m
        WHERE m.conversation_id = ANY (ARRAY(${readable})) AND m.search @@ to_tsquery('circlechat_search', $1) AND NOT m.deleted${filters}
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT ${param(scope.window ?? RECENT_WINDOW)}`, params)
    },

    async tasks(scope) {
      const tsquery = toTsQuery(scope.q)
      if (!tsquery) return []
      const params: unknown[] = [tsquery, scope.workspaceId, scope.workspaceBoard, scope.memberId]
      const param = (value: unknown) => `$${params.push(value)}`
      let filters = ''
      if (scope.conversationId) filters += ` AND t.board = ${param(scope.conversationId)}`
      if (scope.author) filters += ` AND t.created_by = ${param(scope.author)}`
      return query(`
        SELECT t.id AS "taskId", t.conversation_id AS "conversationId", t.title, t.body, t.comments, t.status, t.updated_at::float8 AS "updatedAt"
        FROM tasks t
        WHERE t.search @@ to_tsquery('circlechat_search', $1) AND NOT t.deleted AND t.workspace_id = $2
          AND (t.board = $3 OR t.board = ANY (ARRAY(SELECT conversation_id FROM conversation_members WHERE member_id = $4)))${filters}
        ORDER BY t.created_at DESC, t.id DESC
        LIMIT ${RECENT_WINDOW}`, params)
    }
  }
}
