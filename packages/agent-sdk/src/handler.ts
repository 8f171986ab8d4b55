import { HEARTBEAT_OK } from '@circlechat/protocol'
import type { AgentAction, AgentPacket, AgentUsage } from '@circlechat/protocol'

/** What an agent hands back for one packet. Nothing (or HEARTBEAT_OK) means stay silent. */
export type AgentReply =
  | typeof HEARTBEAT_OK
  | { actions: AgentAction[]; trace?: string[]; usage?: AgentUsage }
  | null
  | undefined
  | void

export interface DispatchContext {
  /** `heartbeat` for scheduled/ambient triggers, `event` for the rest. */
  kind: 'heartbeat' | 'event'
  runId?: string
  agentId?: string
}

export type PacketHandler = (packet: AgentPacket, ctx: DispatchContext) => AgentReply | Promise<AgentReply>

/** The wire body for a reply: `{"status":"HEARTBEAT_OK"}` or `{"actions":[…], trace?, usage?}`. */
export function replyBody(reply: AgentReply): { status: typeof HEARTBEAT_OK } | { actions: AgentAction[]; trace?: string[]; usage?: AgentUsage } {
  if (!reply || reply === HEARTBEAT_OK) return { status: HEARTBEAT_OK }
  return reply
}
