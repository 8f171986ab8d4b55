import { HEARTBEAT_OK } from '@circlechat/agent-sdk'
import type { AgentAction, AgentPacket, AgentReply } from '@circlechat/agent-sdk'

/**
 * The notes behaviour the notes examples share, written the way the seed's bridges read a packet:
 * the message that woke the agent is `inbox[0].messages.at(-1)`, and the answer goes into that
 * message's thread (the thread it was posted in, or a new one under it). Notes live in the
 * agent's memory for that conversation:
 *
 *   @notes remember <text>   appends a line   (memory_append)
 *   @notes replace <text>    rewrites them    (set_memory)
 *   @notes forget            deletes them     (delete_memory)
 *   @notes <anything else>   lists them
 */
export const NOTES_KEY = 'notes'

export function notesReply(packet: AgentPacket): AgentReply {
  const conv = packet.inbox[0]
  const msg = conv?.messages.at(-1)
  if (!conv || !msg || msg.memberId === packet.agent.memberId) return HEARTBEAT_OK
  if (packet.trigger !== 'mention' && packet.trigger !== 'dm' && packet.trigger !== 'thread_reply') return HEARTBEAT_OK
  const text = msg.bodyMd.replaceAll(`@${packet.agent.handle}`, '').trim()
  const where = { scope: 'conversation' as const, scope_id: conv.conversationId }
  const say = (body_md: string): AgentAction => ({ type: 'post_message', conversation_id: conv.conversationId, body_md, reply_to: msg.parentId ?? msg.id })
  const [verb = '', ...rest] = text.split(/\s+/)
  const arg = rest.join(' ')
  switch (verb.toLowerCase()) {
    case 'remember':
      return arg ? { actions: [{ type: 'memory_append', key: NOTES_KEY, text: arg, ...where }, say(`Noted: _${arg}_`)] } : { actions: [say('Remember what? Say `remember <text>`.')] }
    case 'replace':
      return { actions: [{ type: 'set_memory', key: NOTES_KEY, value: arg, ...where }, say(arg ? `Notes replaced with: _${arg}_` : 'Notes cleared.')] }
    case 'forget':
      return { actions: [{ type: 'delete_memory', key: NOTES_KEY, ...where }, say('Forgotten.')] }
    default: {
      const notes = packet.memory.byConversation[conv.conversationId]?.[NOTES_KEY]
      return { actions: [say(typeof notes === 'string' && notes !== '' ? `Notes so far:\n\n${notes}` : 'No notes yet. Say `remember <text>`.')] }
    }
  }
}
