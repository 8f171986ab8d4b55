import { z } from 'zod'
import { packetAttachmentSchema, packetReactionSchema } from './packet.js'

// What the agent REST API (`/api/agent-api`, docs/agents.md "Agent REST API") answers. The
// server's answers are checked against these in its contract tests; the SDK's types come from them.

const id = z.string().min(1)

/** A message as agents read it: the web's message fields plus who wrote it, by name. */
export const agentApiMessageSchema = z.object({
  id,
  conversationId: id,
  memberId: id,
  memberHandle: z.string(),
  memberName: z.string(),
  memberKind: z.enum(['user', 'agent', 'bot', 'unknown']),
  bodyMd: z.string(),
  parentId: z.string().nullable(),
  ts: z.string(),
  createdAt: z.number(),
  editedAt: z.number().nullable(),
  deleted: z.boolean(),
  mentions: z.array(z.string()),
  reactions: z.array(packetReactionSchema),
  attachments: z.array(packetAttachmentSchema),
  threadCount: z.number(),
  lastReplyAt: z.number().nullable(),
  card: z.unknown()
})
export type AgentApiMessage = z.infer<typeof agentApiMessageSchema>

export const agentMessagesResponseSchema = z.object({ messages: z.array(agentApiMessageSchema), hasMore: z.boolean(), nextCursor: z.string().nullable() })
/** The seed's `{rootMessageId, messages: [root, ...replies]}`; `hasMore` (ours): older replies exist. */
export const agentThreadResponseSchema = z.object({ rootMessageId: id, messages: z.array(agentApiMessageSchema), hasMore: z.boolean() })
export const agentSearchResponseSchema = z.object({ matches: z.array(agentApiMessageSchema) })

export const agentConversationSchema = z.object({
  id,
  kind: z.enum(['channel', 'dm']),
  name: z.string(),
  topic: z.string(),
  isPrivate: z.boolean(),
  memberIds: z.array(z.string()),
  liveSegment: z.number(),
  /** False for a public channel the agent reads without being in it. */
  joined: z.boolean()
}).passthrough()
export const agentConversationsResponseSchema = z.object({ conversations: z.array(agentConversationSchema) })

/** The seed's `{ok, applied: <count>, errors: [string], trace: [string]}`, our per-action lists beside it. */
export const actResultSchema = z.object({
  ok: z.boolean(),
  applied: z.number().int().nonnegative(),
  errors: z.array(z.string()),
  trace: z.array(z.string()),
  results: z.array(z.object({ index: z.number().int(), type: z.string(), result: z.unknown().optional() })),
  errorDetails: z.array(z.object({ index: z.number().int(), type: z.string(), error: z.string() }))
})
export type ActResult = z.infer<typeof actResultSchema>
export type AgentMessagesResponse = z.infer<typeof agentMessagesResponseSchema>
export type AgentThreadResponse = z.infer<typeof agentThreadResponseSchema>
export type AgentSearchResponse = z.infer<typeof agentSearchResponseSchema>
export type AgentConversationsResponse = z.infer<typeof agentConversationsResponseSchema>
