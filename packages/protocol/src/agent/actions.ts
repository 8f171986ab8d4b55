import { z } from 'zod'

// The action allowlist (docs/agents.md "Actions"). Field names are snake_case on the wire
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

/**
 * `[{key, name, contentType, size}]` as POST /api/agent-api/uploads answered: the executor
 * checks each key is the agent's own upload (agent-gateway services/files.ts).
 */
const attachments = z.array(z.unknown()).optional()

export const postMessageSchema = z.object({
  type: z.literal('post_message'), conversation_id: id, body_md: body, reply_to: id.nullish(), attachments
})
export const reactSchema = z.object({ type: z.literal('react'), message_id: id, emoji: z.string().min(1) })
export const openThreadSchema = z.object({ type: z.literal('open_thread'), message_id: id, body_md: body, attachments })
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
  due_at: dueAt.optional(),
  /** (ours) Marks or clears the card's blocked flag; the seed's `status: blocked` sets it too. */
  blocked: z.boolean().optional()
})
/** The assignee by member id (the seed's field) or, ours, by handle. */
export const assignTaskSchema = z.object({ type: z.literal('assign_task'), task_id: id, member_id: id.optional(), handle: id.optional() })
  .refine((v) => (v.member_id ?? v.handle) !== undefined, { message: 'member_id (or handle) is required', path: ['member_id'] })
export const taskCommentSchema = z.object({ type: z.literal('task_comment'), task_id: id, body_md: body })
export const shareToTaskSchema = z.object({
  type: z.literal('share_to_task'), task_id: id, files: z.array(actionFileSchema).min(1), body_md: body.optional()
})
export const requestApprovalSchema = z.object({
  type: z.literal('request_approval'),
  // Both go onto the card people read.
  scope: z.string().min(1).max(200),
  action: z.string().min(1).max(1000),
  payload: z.unknown().optional(),
  conversation_id: id.nullish()
})
export const memoryScopeSchema = z.enum(['global', 'conversation', 'task'])
const memoryKey = z.string().min(1).max(200)
const memoryScope = { scope: memoryScopeSchema.optional(), scope_id: z.string().min(1).max(200).optional() }
export const setMemorySchema = z.object({
  type: z.literal('set_memory'),
  key: memoryKey,
  value: z.unknown(),
  ...memoryScope
})
export const deleteMemorySchema = z.object({ type: z.literal('delete_memory'), key: memoryKey, ...memoryScope })

/**
 * The seed's memory tools name a block `label` and its text `content` (append) or `new_memory`
 * (rethink); ours say `key`, `text` (append) and `value` (rethink). Variants are read in the
 * listed order and the action comes out in our names only, so the executor and a held approval
 * see one shape.
 */
const pick = (v: Record<string, unknown>, names: readonly string[]) => names.map((n) => v[n]).find((x) => x !== undefined)
const blockKey = { key: memoryKey.optional(), label: memoryKey.optional() }
const keyGiven = (v: { key?: string; label?: string }) => (v.key ?? v.label) !== undefined
const keyMissing = { message: 'key (or label) is required', path: ['key'] }
const APPEND_TEXT = ['text', 'content', 'value'] as const
const RETHINK_VALUE = ['value', 'new_value', 'new_memory', 'content'] as const

export const memoryAppendSchema = z.object({
  type: z.literal('memory_append'), ...blockKey, text: body.optional(), content: body.optional(), value: body.optional(), ...memoryScope
})
  .refine(keyGiven, keyMissing)
  .refine((v) => pick(v, APPEND_TEXT) !== undefined, { message: 'text (or content, value) is required', path: ['text'] })
  .transform(({ type, key, label, scope, scope_id, ...rest }) => ({
    type, key: (key ?? label)!, text: pick(rest, APPEND_TEXT) as string, ...(scope ? { scope } : {}), ...(scope_id ? { scope_id } : {})
  }))
export const memoryRethinkSchema = z.object({
  type: z.literal('memory_rethink'), ...blockKey, value: z.unknown().optional(), new_value: z.unknown().optional(), new_memory: z.unknown().optional(), content: z.unknown().optional(), ...memoryScope
})
  .refine(keyGiven, keyMissing)
  .refine((v) => pick(v, RETHINK_VALUE) !== undefined, { message: 'value (or new_value, new_memory, content) is required', path: ['value'] })
  .transform(({ type, key, label, scope, scope_id, ...rest }) => ({
    type, key: (key ?? label)!, value: pick(rest, RETHINK_VALUE), ...(scope ? { scope } : {}), ...(scope_id ? { scope_id } : {})
  }))

/** Recorded on the run, never executed: the agent's own runtime calls its tools. `tool`/`arguments` are the seed's names. */
export const callToolSchema = z.object({
  type: z.literal('call_tool'), name: z.string().min(1).max(200).optional(), tool: z.string().min(1).max(200).optional(), args: z.unknown().optional(), arguments: z.unknown().optional()
})
  .refine((v) => (v.name ?? v.tool) !== undefined, { message: 'name (or tool) is required', path: ['name'] })
  .transform((v) => ({ type: v.type, name: (v.name ?? v.tool)!, args: v.args ?? v.arguments ?? null }))

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
  setMemorySchema,
  deleteMemorySchema,
  memoryAppendSchema,
  memoryRethinkSchema,
  callToolSchema
])
export type AgentAction = z.infer<typeof agentActionSchema>
export type AgentActionType = AgentAction['type']

export const agentActionTypes: readonly AgentActionType[] = [
  'post_message', 'react', 'open_thread', 'share_files', 'create_task', 'update_task',
  'assign_task', 'task_comment', 'share_to_task', 'request_approval', 'set_memory', 'delete_memory',
  'memory_append', 'memory_rethink', 'call_tool'
]

/** Names the seed's agents use for task_comment; normalised before validation. */
export const actionAliases: Readonly<Record<string, AgentActionType>> = {
  comment_on_task: 'task_comment',
  add_comment: 'task_comment',
  comment: 'task_comment'
}

/** Hard cap per reply: a derailed model cannot flood a workspace in one turn. */
export const MAX_ACTIONS_PER_REPLY = 20
