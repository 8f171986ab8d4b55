import { z } from 'zod'
import { agentTriggerSchema } from './triggers.js'

// The context packet an agent receives per trigger (docs/agents.md "Packet").
// Ids are plain strings: the seed's agents send and expect whatever the server minted.
// Nullable wherever the server may have nothing to say (no topic, no due date, no manager).

const id = z.string().min(1)

export const packetReactionSchema = z.object({ emoji: z.string(), memberId: id, memberHandle: z.string() })
export const packetAttachmentSchema = z.object({
  key: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number(),
  url: z.string(),
  /** Images: their size as displayed. */
  width: z.number().optional(),
  height: z.number().optional(),
  /** A voice message (recorded in the composer): audio to fetch from `url`, `durationMs` long. */
  kind: z.literal('voice').optional(),
  durationMs: z.number().optional()
})

export const packetMessageSchema = z.object({
  id,
  memberId: id,
  memberHandle: z.string(),
  memberName: z.string(),
  bodyMd: z.string(),
  parentId: z.string().nullable(),
  ts: z.string(),
  /** Member ids; `everyone` / `channel` stay as keywords, each followed by the members it reaches. */
  mentions: z.array(z.string()),
  reactions: z.array(packetReactionSchema),
  attachments: z.array(packetAttachmentSchema)
})
export type PacketMessage = z.infer<typeof packetMessageSchema>

export const conversationKindSchema = z.enum(['channel', 'dm'])

export const inboxEntrySchema = z.object({
  conversationId: id,
  conversationKind: conversationKindSchema,
  conversationName: z.string(),
  conversationTopic: z.string().nullable(),
  conversationMembers: z.array(z.string()),
  messages: z.array(packetMessageSchema)
})
export type InboxEntry = z.infer<typeof inboxEntrySchema>

export const packetThreadSchema = z.object({
  conversationId: id,
  conversationKind: conversationKindSchema,
  conversationName: z.string(),
  rootMessageId: id,
  messages: z.array(packetMessageSchema)
})

export const packetMemberSchema = z.object({
  memberId: id,
  kind: z.enum(['user', 'agent', 'bot']),
  name: z.string(),
  handle: z.string(),
  isMe: z.boolean().optional()
})

export const orgEntrySchema = z.object({
  memberId: id,
  kind: z.enum(['user', 'agent', 'bot']),
  name: z.string(),
  handle: z.string(),
  title: z.string().nullable()
})

export const openApprovalSchema = z.object({
  id,
  scope: z.string(),
  action: z.string(),
  status: z.enum(['pending', 'approved', 'denied']),
  createdAt: z.string(),
  agentHandle: z.string(),
  mine: z.boolean()
})

export const approvalResponseSchema = z.object({
  id,
  scope: z.string(),
  action: z.string(),
  status: z.enum(['approved', 'denied']),
  note: z.string().nullable(),
  decidedByHandle: z.string().nullable(),
  payload: z.unknown(),
  /** (ours) When the payload was one of our actions and approving ran it: how that went. */
  executed: z.object({ ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional() }).nullable().optional()
})

const memoryBag = z.record(z.string(), z.unknown())
export const packetMemorySchema = z.object({
  global: memoryBag,
  byConversation: z.record(z.string(), memoryBag),
  byTask: z.record(z.string(), memoryBag)
})

/** A task comment as an agent reads it; `ts` is ISO 8601. */
export const packetTaskCommentSchema = z.object({
  id,
  memberId: id,
  memberHandle: z.string(),
  bodyMd: z.string(),
  ts: z.string(),
  /** As a message's: absolute URLs the agent's token fetches. */
  attachments: z.array(packetAttachmentSchema)
})

export const myTaskSchema = z.object({
  id,
  title: z.string(),
  /** backlog | in_progress | review | done; a blocked card keeps its column and sets `blocked`. */
  status: z.string(),
  /** (ours) The card is marked blocked (the seed's `blocked` status). */
  blocked: z.boolean().optional(),
  progress: z.number(),
  dueAt: z.string().nullable(),
  /** Null for the workspace's board (tasks tied to no conversation). */
  conversationId: z.string().nullable(),
  conversationName: z.string().nullable(),
  labels: z.array(z.string()),
  commentCount: z.number(),
  latestComment: packetTaskCommentSchema.omit({ id: true }).nullable()
})

export const packetSubtaskSchema = z.object({ id, title: z.string(), status: z.string(), assignees: z.array(z.string()) })

export const packetTaskSchema = z.object({
  id,
  conversationId: z.string().nullable(),
  conversationName: z.string().nullable(),
  title: z.string(),
  bodyMd: z.string(),
  status: z.string(),
  /** (ours) As in myTasks. */
  blocked: z.boolean().optional(),
  progress: z.number(),
  dueAt: z.string().nullable(),
  labels: z.array(z.string()),
  assignees: z.array(z.string()),
  assigneeHandles: z.array(z.string()),
  parentId: z.string().nullable(),
  createdBy: z.string(),
  subtasks: z.array(packetSubtaskSchema),
  /** The last 10, oldest first. */
  recentComments: z.array(packetTaskCommentSchema)
})

export const lastRunSchema = z.object({
  runId: id,
  status: z.string(),
  errors: z.array(z.unknown())
})

/** The seed's feedback: my last finished run failed (delivery or server), and why. */
export const previousRunFailureSchema = z.object({
  errorText: z.string(),
  finishedAt: z.string()
})

export const agentPacketSchema = z.object({
  runId: id,
  agent: z.object({
    id,
    memberId: id,
    handle: z.string(),
    name: z.string(),
    model: z.string().nullable(),
    title: z.string().nullable(),
    scopes: z.array(z.string()),
    brief: z.string()
  }),
  workspace: z.object({ id, name: z.string(), handle: z.string() }),
  trigger: agentTriggerSchema,
  /** Null on scheduled and test triggers: they are about no one conversation. */
  triggerConversationId: z.string().nullable(),
  triggerMessageId: z.string().nullable().optional(),
  members: z.record(z.string(), packetMemberSchema),
  /**
   * The trigger's conversation comes first. Each entry's messages are its last 20, thread
   * replies included, oldest first, deleted ones left out; for a trigger message, that message
   * is the last one.
   */
  inbox: z.array(inboxEntrySchema),
  /** The trigger message's thread (it is a reply, or a root with replies): root first, then replies. */
  thread: packetThreadSchema.nullable(),
  openApprovals: z.array(openApprovalSchema),
  approvalResponse: approvalResponseSchema.optional(),
  memory: packetMemorySchema,
  reporting: z.object({
    manager: orgEntrySchema.nullable(),
    directReports: z.array(orgEntrySchema),
    peers: z.array(orgEntrySchema)
  }),
  /** Open tasks assigned to me on boards I can see, freshest first, at most 12. */
  myTasks: z.array(myTaskSchema),
  /** The task of a task_assigned or task_comment trigger. */
  task: packetTaskSchema.optional(),
  /** (ours) The comment that woke a task_comment trigger. */
  triggerCommentId: z.string().nullable().optional(),
  /** What went wrong with my previous actions, so the agent can correct itself. */
  lastRun: lastRunSchema.nullable().optional(),
  previousRunFailure: previousRunFailureSchema.nullable().optional()
})
export type AgentPacket = z.infer<typeof agentPacketSchema>
