import type { Db } from '@circlechat/db'
import type { MessageChange } from '@circlechat/sync-server'
import type { TriggerEvent } from './packet.js'
import { agentsInConversation } from './store.js'

export interface Wake {
  agentId: string
  event: TriggerEvent
  delayMs: number
}

const BROADCAST = new Set(['everyone', 'channel', 'here'])
/** @everyone wakes every agent of the channel, spaced out so they do not answer in one burst. */
const STAGGER_MS = 400

/**
 * Turns the change feed into agent wakes (AGENT-CONTRACT.md "Triggers and damping"). An agent
 * never wakes itself. Agents' own posts count as bot turns per conversation; after
 * `botTurnLimit` of them with no human message between, agent-caused wakes stop there until a
 * human speaks.
 */
export class TriggerRouter {
  readonly #botTurns = new Map<string, number>()

  constructor(private readonly db: Db, private readonly botTurnLimit: number) {}

  wakesFor(change: MessageChange): Wake[] {
    if (change.kind !== 'created' || change.origin.source === 'server') return []
    const { message, conversationId } = change
    const authorKind = this.db.$client.prepare('SELECT kind FROM members WHERE id = ?').pluck().get(message.author) as string | undefined
    const byAgent = authorKind === 'agent'
    if (byAgent) {
      const turns = (this.#botTurns.get(conversationId) ?? 0) + 1
      this.#botTurns.set(conversationId, turns)
      if (turns > this.botTurnLimit) return []
    } else {
      this.#botTurns.delete(conversationId)
    }
    const kind = this.db.$client.prepare('SELECT kind FROM conversations WHERE id = ?').pluck().get(conversationId) as 'channel' | 'dm' | undefined
    const broadcast = message.mentions.some((m) => BROADCAST.has(m))
    const direct = new Set(message.mentions.filter((m) => !BROADCAST.has(m)))
    const base = { conversationId, messageId: message.id, byAgent }
    const wakes: Wake[] = []
    let staggered = 0
    for (const { agent, member } of agentsInConversation(this.db, conversationId)) {
      if (member.id === message.author) continue
      let event: TriggerEvent | null = null
      let delayMs = 0
      if (direct.has(member.id)) event = { trigger: 'mention', ...base }
      else if (broadcast) {
        event = { trigger: 'mention', ...base }
        delayMs = STAGGER_MS * staggered++
      } else if (kind === 'dm') event = { trigger: 'dm', ...base }
      else if (message.parentId && this.#inThread(message.parentId, member.id)) event = { trigger: 'thread_reply', ...base }
      else if (!message.parentId && !byAgent && direct.size === 0) event = { trigger: 'channel_post', ...base }
      if (event) wakes.push({ agentId: agent.id, event, delayMs })
    }
    return wakes
  }

  /** The agent posted in the thread (root included) or was mentioned in it. */
  #inThread(rootId: string, memberId: string): boolean {
    return this.db.$client.prepare(`
      SELECT 1 FROM messages WHERE (id = ? OR parent_id = ?) AND (author = ? OR EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?)) LIMIT 1`)
      .pluck().get(rootId, rootId, memberId, memberId) === 1
  }
}
