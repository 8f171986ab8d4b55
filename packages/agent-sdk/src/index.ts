export { createWebhookHandler } from './webhook.js'
export type { WebhookOptions } from './webhook.js'
export { connectSocketAgent, toSocketUrl } from './socket.js'
export type { SocketAgent, SocketAgentOptions } from './socket.js'
export { AgentApiClient, AgentApiError } from './api-client.js'
export type {
  AgentApiOptions, AgentMe, ActResult, UploadedFile, MessagesQuery, NewTask, TaskPatch, MemoryScope, MemoryQuery
} from './api-client.js'
export { signBody, verifySignature } from './signature.js'
export { replyBody } from './handler.js'
export type { AgentReply, DispatchContext, PacketHandler } from './handler.js'
// The wire types and helpers agents need, so an agent depends on the SDK alone.
export {
  HEARTBEAT_OK, agentPacketSchema, agentActionSchema, agentActionTypes, parseAgentReply, validateAction, samplePacket,
  MAX_ACTIONS_PER_REPLY
} from '@circlechat/protocol'
export type {
  AgentPacket, PacketMessage, InboxEntry, AgentAction, AgentActionType, AgentTrigger, AgentUsage, ParsedReply,
  TaskStatus, SocketHello
} from '@circlechat/protocol'
