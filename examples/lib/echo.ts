import { HEARTBEAT_OK } from '@circlechat/agent-sdk'
import type { AgentPacket, AgentReply } from '@circlechat/agent-sdk'

/**
 * The echo behaviour the webhook and socket examples share: answer a mention or DM by quoting
 * it back, stay silent on everything else, and never answer our own message (that would loop).
 */
export function echoReply(packet: AgentPacket): AgentReply {
  if (packet.trigger !== 'mention' && packet.trigger !== 'dm') return HEARTBEAT_OK
  const conv = packet.inbox.find((c) => c.conversationId === packet.triggerConversationId) ?? packet.inbox[0]
  const msg = conv?.messages.find((m) => m.id === packet.triggerMessageId) ?? conv?.messages.at(-1)
  if (!conv || !msg || msg.memberId === packet.agent.memberId) return HEARTBEAT_OK
  // Drop our own @handle so the echo does not mention us back.
  const said = msg.bodyMd.replaceAll(`@${packet.agent.handle}`, '').trim()
  return {
    actions: [{
      type: 'post_message',
      conversation_id: conv.conversationId,
      body_md: `Got it — you said: _${said}_`,
      // Stay in the thread when the message was a thread reply.
      ...(msg.parentId ? { reply_to: msg.parentId } : {})
    }]
  }
}
