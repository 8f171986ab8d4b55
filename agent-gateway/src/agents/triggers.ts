import type { Db } from '@circlechat/db'
import { partitionMentions } from '@circlechat/model'
import type { MessageChange } from '@circlechat/sync-server'
import type { TriggerEvent } from './packet.js'

export interface Wake {
  agentId: string
  event: TriggerEvent
  delayMs: number
}

/** @everyone wakes every agent of the channel, spaced out so they do not answer in one burst. */
const STAGGER_MS = 400

/**
 * Turns the change feed into agent wakes (docs/agents.md "Triggers"). An agent
 * never wakes itself. Agents' own posts count as bot turns per conversation; after
 * `botTurnLimit` of them with no human message between, agent-caused wakes stop there until a
 * human speaks.
 */
export class TriggerRouter {
  readonly #botTurns = new Map<string, number>()
  // This runs for every message the relay commits, so it must stay cheap: statements are
  // prepared once and the conversation's agents come from one query. (Building a Drizzle query
  // per agent per message was the largest cost of a busy channel with 20 agents.)
  readonly #authorKind
  readonly #convKind
  readonly #agents
  readonly #inThreadStmt

  constructor(private readonly db: Db, private readonly botTurnLimit: number) {
    const sql = db.$client
    this.#authorKind = sql.prepare('SELECT kind FROM members WHERE id = ?').pluck()
    this.#convKind = sql.prepare('SELECT kind FROM conversations WHERE id = ?').pluck()
    this.#agents = sql.prepare(`
      SELECT a.id AS agentId, a.member_id AS memberId FROM agents a JOIN conversation_members cm ON cm.member_id = a.member_id
      JOIN members m ON m.id = a.member_id WHERE cm.conversation_id = ? AND m.deactivated = 0`)
    this.#inThreadStmt = sql.prepare(`
      SELECT 1 FROM messages WHERE (id = ? OR parent_id = ?) AND (author = ? OR EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?)) LIMIT 1`).pluck()
  }

  wakesFor(change: MessageChange): Wake[] {
    if (change.kind !== 'created' || change.origin.source === 'server') return []
    const { message, conversationId } = change
    const authorKind = this.#authorKind.get(message.author) as string | undefined
    const byAgent = authorKind === 'agent'
    if (byAgent) {
      const turns = (this.#botTurns.get(conversationId) ?? 0) + 1
      this.#botTurns.set(conversationId, turns)
      if (turns > this.botTurnLimit) return []
    } else {
      this.#botTurns.delete(conversationId)
    }
    const kind = this.#convKind.get(conversationId) as 'channel' | 'dm' | undefined
    const mentions = partitionMentions(message.mentions)
    const broadcast = mentions.broadcast.length > 0
    const direct = new Set(mentions.direct)
    const base = { conversationId, messageId: message.id, byAgent }
    const wakes: Wake[] = []
    let staggered = 0
    for (const { agentId, memberId } of this.#agents.all(conversationId) as Array<{ agentId: string; memberId: string }>) {
      if (memberId === message.author) continue
      let event: TriggerEvent | null = null
      let delayMs = 0
      if (direct.has(memberId)) event = { trigger: 'mention', ...base }
      else if (broadcast) {
        event = { trigger: 'mention', ...base }
        delayMs = STAGGER_MS * staggered++
      } else if (kind === 'dm') event = { trigger: 'dm', ...base }
      else if (message.parentId && this.#inThread(message.parentId, memberId)) event = { trigger: 'thread_reply', ...base }
      else if (!message.parentId && !byAgent && direct.size === 0) event = { trigger: 'channel_post', ...base }
      if (event) wakes.push({ agentId, event, delayMs })
    }
    return wakes
  }

  /** The agent posted in the thread (root included) or was mentioned in it. */
  #inThread(rootId: string, memberId: string): boolean {
    return this.#inThreadStmt.get(rootId, rootId, memberId, memberId) === 1
  }
}
