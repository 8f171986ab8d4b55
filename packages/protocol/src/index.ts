export { PROTOCOL_VERSION, messageType, rejectReason } from './sync-messages.js'
export type { RejectReason } from './sync-messages.js'
export { closeCode } from './close-codes.js'
export type { CloseCode } from './close-codes.js'
export type { ApiError } from './api.js'
export { agentTriggerSchema, heartbeatTriggers } from './agent/triggers.js'
export type { AgentTrigger } from './agent/triggers.js'
export {
  agentPacketSchema, packetMessageSchema, packetReactionSchema, packetAttachmentSchema, conversationKindSchema,
  inboxEntrySchema, packetThreadSchema, packetMemberSchema, orgEntrySchema, openApprovalSchema,
  approvalResponseSchema, packetMemorySchema, myTaskSchema, packetTaskSchema, packetTaskCommentSchema, packetSubtaskSchema, lastRunSchema
} from './agent/packet.js'
export type { AgentPacket, PacketMessage, InboxEntry } from './agent/packet.js'
export {
  agentActionSchema, agentActionTypes, actionAliases, MAX_ACTIONS_PER_REPLY, taskStatusSchema, actionFileSchema,
  memoryScopeSchema, postMessageSchema, reactSchema, openThreadSchema, shareFilesSchema, createTaskSchema,
  updateTaskSchema, assignTaskSchema, taskCommentSchema, shareToTaskSchema, requestApprovalSchema, setMemorySchema,
  deleteMemorySchema, memoryAppendSchema, memoryRethinkSchema, callToolSchema
} from './agent/actions.js'
export type { AgentAction, AgentActionType, TaskStatus } from './agent/actions.js'
export { HEARTBEAT_OK, agentUsageSchema, agentReplyJsonSchema, parseAgentReply, validateAction } from './agent/reply.js'
export type { AgentUsage, AgentReplyJson, ParsedReply, ValidatedAction } from './agent/reply.js'
export {
  READ_SCOPE, REPLY_SCOPE, TASKS_SCOPE, ALL_SCOPES, DEFAULT_SCOPES, TRIGGER_SCOPES, actionScopes, effectiveScopes, hasScope, missingScope
} from './agent/scopes.js'
export type { ScopedActionType } from './agent/scopes.js'
export { socketHelloSchema, socketDispatchSchema, socketReplyEnvelopeSchema, socketReplySchema, socketPongSchema } from './agent/socket.js'
export type { SocketHello, SocketDispatch, SocketReply, SocketPong } from './agent/socket.js'
export { samplePacket } from './agent/sample-packet.js'
export {
  agentApiMessageSchema, agentMessagesResponseSchema, agentThreadResponseSchema, agentSearchResponseSchema,
  agentConversationSchema, agentConversationsResponseSchema, actResultSchema
} from './agent/rest.js'
export type {
  AgentApiMessage, ActResult, AgentMessagesResponse, AgentThreadResponse, AgentSearchResponse, AgentConversationsResponse
} from './agent/rest.js'
