import { z } from 'zod'

// The action allowlist (AGENT-CONTRACT.md "Actions"). Field names are snake_case on the wire
// because the seed's agents already send them that way. Anything else is dropped and recorded.

const id = z.string().min(1)
const body = z.string()

export const taskStatusSchema = z.enum(['backlog', 'in_progress', 'review', 'done', 'blocked'])
export type TaskStatus = z.infer<typeof taskStatusSchema>

/** A file to share: a URL we fetch, or a path on the agent's side (name overrides the file name). */
export const actionFileSchema = z.union([
  z.object({ url: z.string().min(1), name: z.string().optional() }),
  z.object({ path: z.string().min(1), name: z.string().optional() })
])

/** ISO date string or epoch ms; null clears it. */
const dueAt = z.union([z.string(), z.number()]).nullable()

export const postMessageSchema = z.object({
  type: z.literal('post_message'), conversation_id: id, body_md: body, reply_to: id.nullish()
})
export const reactSchema = z.object({ type: z.literal('react'), message_id: id, emoji: z.string().min(1) })
export const openThreadSchema = z.object({ type: z.literal('open_thread'), message_id: id, body_md: body })
export const shareFilesSchema = z.object({
  type: z.literal('share_files'),
  conversation_id: id,
  files: z.array(actionFileSchema).min(1),
  body_md: body.optional(),
  reply_to: id.nullish()
})
export const createTaskSchema = z.object({
  type: z.literal('create_task'),
  title: z.string().min(1),
  body_md: body.optional(),
  status: taskStatusSchema.optional(),
  assignees: z.array(id).optional(),
  labels: z.array(z.string()).optional(),
  due_at: dueAt.optional(),
  parent_id: id.nullish(),
  conversation_id: id.nullish()
})
export const updateTaskSchema = z.object({
  type: z.literal('update_task'),
  task_id: id,
  title: z.string().min(1).optional(),
  body_md: body.optional(),
  status: taskStatusSchema.optional(),
  progress: z.number().min(0).max(100).optional(),
  due_at: dueAt.optional()
})
export const assignTaskSchema = z.object({ type: z.literal('assign_task'), task_id: id, member_id: id })
export const taskCommentSchema = z.object({ type: z.literal('task_comment'), task_id: id, body_md: body })
export const shareToTaskSchema = z.object({
  type: z.literal('share_to_task'), task_id: id, files: z.array(actionFileSchema).min(1), body_md: body.optional()
})
export const requestApprovalSchema = z.object({
  type: z.literal('request_approval'),
  scope: z.string().min(1),
  action: z.string().min(1),
  payload: z.unknown().optional(),
  conversation_id: id.nullish()
})
export const memoryScopeSchema = z.enum(['global', 'conversation', 'task'])
export const setMemorySchema = z.object({
  type: z.literal('set_memory'),
  key: z.string().min(1).max(200),
  value: z.unknown(),
  scope: memoryScopeSchema.optional(),
  scope_id: id.optional()
})

export const agentActionSchema = z.discriminatedUnion('type', [
  postMessageSchema,
  reactSchema,
  openThreadSchema,
  shareFilesSchema,
  createTaskSchema,
  updateTaskSchema,
  assignTaskSchema,
  taskCommentSchema,
  shareToTaskSchema,
  requestApprovalSchema,
  setMemorySchema
])
export type AgentAction = z.infer<typeof agentActionSchema>
export type AgentActionType = AgentAction['type']

export const agentActionTypes: readonly AgentActionType[] = [
  'post_message', 'react', 'open_thread', 'share_files', 'create_task', 'update_task',
  'assign_task', 'task_comment', 'share_to_task', 'request_approval', 'set_memory'
]

/** Names the seed's agents use for task_comment; normalised before validation. */
export const actionAliases: Readonly<Record<string, AgentActionType>> = {
  comment_on_task: 'task_comment',
  add_comment: 'task_comment',
  comment: 'task_comment'
}

/** Hard cap per reply: a derailed model cannot flood a workspace in one turn. */
export const MAX_ACTIONS_PER_REPLY = 20
