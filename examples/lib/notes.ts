import { HEARTBEAT_OK } from '@circlechat/agent-sdk'
import type { AgentAction, AgentPacket, AgentReply } from '@circlechat/agent-sdk'

/**
 * The notes behaviour the notes examples share. Notes live in the agent's memory for the
 * conversation, and the answer goes into the thread of the message that mentioned it (the thread
 * it was posted in, or a new one under it):
 *
 *   @notes remember <text>   appends a line   (memory_append)
 *   @notes replace <text>    rewrites them    (set_memory)
 *   @notes forget            deletes them     (delete_memory)
 *   @notes <anything else>   lists them
 *
 * `notesTurn` is the behaviour itself; `notesReply` carries it over packets (webhook, socket)
 * and the peer example over the REST API and its own documents.
 */
export const NOTES_KEY = 'notes'

/** What one command does, whatever carries it. */
export interface NotesTurn {
  /** The memory action to apply before answering; null when the command changes nothing. */
  change: AgentAction | null
  /** Whether the answer shows the notes: only then does `answer` read them (a peer fetches them). */
  lists: boolean
  answer(notes: unknown): string
}

/** Reads the command in `bodyMd` (its `@handle` dropped) against the notes of `conversationId`. */
export function notesTurn(bodyMd: string, handle: string, conversationId: string): NotesTurn {
  const text = bodyMd.replaceAll(`@${handle}`, '').trim()
  const where = { scope: 'conversation' as const, scope_id: conversationId }
  const [verb = '', ...rest] = text.split(/\s+/)
  const arg = rest.join(' ')
  const says = (change: AgentAction | null, answer: string): NotesTurn => ({ change, lists: false, answer: () => answer })
  switch (verb.toLowerCase()) {
    case 'remember':
      return arg ? says({ type: 'memory_append', key: NOTES_KEY, text: arg, ...where }, `Noted: _${arg}_`) : says(null, 'Remember what? Say `remember <text>`.')
    case 'replace':
      return says({ type: 'set_memory', key: NOTES_KEY, value: arg, ...where }, arg ? `Notes replaced with: _${arg}_` : 'Notes cleared.')
    case 'forget':
      return says({ type: 'delete_memory', key: NOTES_KEY, ...where }, 'Forgotten.')
    default:
      return {
        change: null,
        lists: true,
        answer: (notes) => (typeof notes === 'string' && notes !== '' ? `Notes so far:\n\n${notes}` : 'No notes yet. Say `remember <text>`.')
      }
  }
}

/** The seed's way of reading a packet: what woke the agent is `inbox[0].messages.at(-1)`. */
export function notesReply(packet: AgentPacket): AgentReply {
  const conv = packet.inbox[0]
  const msg = conv?.messages.at(-1)
  if (!conv || !msg || msg.memberId === packet.agent.memberId) return HEARTBEAT_OK
  if (packet.trigger !== 'mention' && packet.trigger !== 'dm' && packet.trigger !== 'thread_reply') return HEARTBEAT_OK
  const turn = notesTurn(msg.bodyMd, packet.agent.handle, conv.conversationId)
  const body_md = turn.answer(packet.memory.byConversation[conv.conversationId]?.[NOTES_KEY])
  const say: AgentAction = { type: 'post_message', conversation_id: conv.conversationId, body_md, reply_to: msg.parentId ?? msg.id }
  return { actions: turn.change ? [turn.change, say] : [say] }
}
