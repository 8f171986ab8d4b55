import type { Db } from '@circlechat/db'
import { refuse } from './refusal.js'
import type { AgentRecord } from './store.js'

// What an agent can reach, checked at the moment each action runs.

export function isMember(db: Db, rec: AgentRecord, conversationId: string): boolean {
  return !!db.$client.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(conversationId, rec.member.id)
}

export function requireMember(db: Db, rec: AgentRecord, conversationId: string) {
  const conv = db.$client.prepare('SELECT workspace_id FROM conversations WHERE id = ?').pluck().get(conversationId)
  if (conv !== rec.member.workspaceId) refuse(`conversation ${conversationId} does not exist in this workspace`)
  const member = db.$client.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(conversationId, rec.member.id)
  if (!member) refuse(`not a member of conversation ${conversationId}`)
}

/** SPEC.md ACC6: nothing lands in an archived channel, from an agent either. */
export function requireWritable(db: Db, conversationId: string) {
  const archived = db.$client.prepare('SELECT archived_at FROM conversations WHERE id = ?').pluck().get(conversationId)
  if (archived != null) refuse(`conversation ${conversationId} is archived and read-only`)
}

/**
 * A live task on a board the agent can see, from the task index: its conversation (null for the
 * workspace board). A task elsewhere reads as missing, as it does for a person.
 */
export function taskInReach(db: Db, rec: AgentRecord, taskId: string): { board: string; conversationId: string | null } {
  const row = db.$client.prepare('SELECT board, conversation_id FROM tasks WHERE id = ? AND workspace_id = ? AND deleted = 0')
    .get(taskId, rec.member.workspaceId) as { board: string; conversation_id: string | null } | undefined
  // A guest agent sees its conversations' boards only, never the workspace board (ACC7).
  const seen = row && (row.conversation_id ? isMember(db, rec, row.conversation_id) : rec.member.role !== 'guest')
  if (!row || !seen) return refuse(`task ${taskId} does not exist, or is on a board you cannot see`)
  return { board: row.board, conversationId: row.conversation_id }
}
