import { HEARTBEAT_OK, parseAgentReply, validateAction } from '@circlechat/agent-sdk'
import type { AgentAction, AgentPacket, AgentReply, AgentUsage } from '@circlechat/agent-sdk'

/**
 * Reads a model's text the way the server would and returns checked actions. Invalid actions are
 * dropped here and named in the trace, so the run shows why instead of the server silently
 * refusing them. Prose is posted only when the model gave no actions: prose beside an actions
 * block is commentary on them ("Here is my reply:"), not a message for people.
 */
export function replyFromModelText(text: string, packet: AgentPacket, usage?: AgentUsage): AgentReply {
  const parsed = parseAgentReply(text)
  if (parsed.kind === 'silent') return HEARTBEAT_OK
  const actions: AgentAction[] = []
  const trace: string[] = [...(parsed.errors ?? [])]
  for (const raw of parsed.actions) {
    const v = validateAction(raw)
    if (v.ok) actions.push(v.action)
    else trace.push(`dropped: ${v.error}`)
  }
  if (actions.length === 0 && parsed.leftoverText) {
    const prose = asAction(parsed.leftoverText, packet)
    if (prose) actions.push(prose)
  }
  if (actions.length === 0 && trace.length === 0) return HEARTBEAT_OK
  return { actions, ...(trace.length ? { trace } : {}), ...(usage ? { usage } : {}) }
}

/**
 * Prose goes to the trigger conversation, or a heartbeat's freshest one; in task-only mode there
 * is none, so it becomes a comment on my first open task.
 */
function asAction(body: string, packet: AgentPacket): AgentAction | null {
  const conversationId = packet.triggerConversationId ?? packet.inbox[0]?.conversationId
  if (conversationId) return { type: 'post_message', conversation_id: conversationId, body_md: body }
  const task = packet.task ?? packet.myTasks[0]
  return task ? { type: 'task_comment', task_id: task.id, body_md: body } : null
}
