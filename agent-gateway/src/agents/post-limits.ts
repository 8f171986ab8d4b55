import { MAX_BODY_CHARS } from '@circlechat/model'
import { syncDefaults } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'

/**
 * The limits a person's posts meet, applied to agent posts (which are server-authored edits and
 * so never pass the relay's guard): body size, message rate, and a cap per conversation. Near-
 * duplicates are the reply-guard's (reply-guard.ts). Each refusal is a reason the agent reads in
 * lastRun. Counters are in memory here, or in Redis for several processes (limits/redis.ts).
 */
export interface AgentPostLimits {
  /** Per agent across conversations: a person's sync connection gets the same (5/s, burst 20). */
  messagesPerSecond: number
  messageBurst: number
  /** Per agent and conversation (threads included): a burst, then one message per interval. */
  conversationBurst: number
  conversationIntervalMs: number
}

export const agentPostDefaults: AgentPostLimits = {
  messagesPerSecond: syncDefaults.messagesPerSecond,
  messageBurst: syncDefaults.messageBurst,
  // 10, then one every 6 s: more than a person types into one conversation, far less than a loop.
  conversationBurst: 10,
  conversationIntervalMs: 6_000
}

class Bucket {
  #tokens: number
  #last: number
  constructor(private readonly perMs: number, private readonly burst: number, now: number) {
    this.#tokens = burst
    this.#last = now
  }
  #refill(now: number) {
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) * this.perMs)
    this.#last = now
  }
  available(now: number): boolean {
    this.#refill(now)
    return this.#tokens >= 1
  }
  take(now: number) {
    this.#refill(now)
    this.#tokens -= 1
  }
  /** Full again: nothing to remember. */
  full(now: number): boolean {
    this.#refill(now)
    return this.#tokens >= this.burst
  }
}

export interface PostLimiter {
  readonly limits: AgentPostLimits
  /** Counts one post; a reason when it is over a limit (nothing counted then). */
  take(agentId: string, conversationId: string, now?: number): Promise<string | null>
}

/** What an agent reads when a post is over `which` limit. */
export function postLimitReason(l: AgentPostLimits, which: 'conversation' | 'agent', conversationId: string): string {
  return which === 'conversation'
    ? `too many messages in conversation ${conversationId}: at most ${l.conversationBurst} at once, then one every ${Math.round(l.conversationIntervalMs / 1000)} s; say it in fewer, longer messages`
    : `too many messages: at most ${l.messageBurst} at once, then ${l.messagesPerSecond} a second; slow down`
}

export class MemoryPostLimiter implements PostLimiter {
  readonly #agents = new Map<string, Bucket>()
  readonly #conversations = new Map<string, Bucket>()
  #lastSweep = 0
  constructor(readonly limits: AgentPostLimits) {}

  async take(agentId: string, conversationId: string, now = Date.now()): Promise<string | null> {
    this.#sweep(now)
    const l = this.limits
    const agent = this.#agents.get(agentId) ?? new Bucket(l.messagesPerSecond / 1000, l.messageBurst, now)
    this.#agents.set(agentId, agent)
    const convKey = `${agentId}\u0000${conversationId}`
    const conv = this.#conversations.get(convKey) ?? new Bucket(1 / l.conversationIntervalMs, l.conversationBurst, now)
    this.#conversations.set(convKey, conv)
    if (!conv.available(now)) return postLimitReason(l, 'conversation', conversationId)
    if (!agent.available(now)) return postLimitReason(l, 'agent', conversationId)
    conv.take(now)
    agent.take(now)
    return null
  }

  /** Drops full buckets now and then, so idle agents and conversations cost nothing. */
  #sweep(now: number) {
    if (now - this.#lastSweep < 60_000) return
    this.#lastSweep = now
    for (const m of [this.#agents, this.#conversations]) for (const [k, b] of m) if (b.full(now)) m.delete(k)
  }
}

const limiters = new WeakMap<Gateway, PostLimiter>()

/** Sets this server's limits (the agent runtime calls it; tests pass tighter ones). */
export function configurePostLimits(gw: Gateway, limits: Partial<AgentPostLimits> = {}): void {
  limiters.set(gw, gw.limits.postLimiter({ ...agentPostDefaults, ...limits }))
}

function limiterOf(gw: Gateway): PostLimiter {
  let l = limiters.get(gw)
  if (!l) limiters.set(gw, (l = gw.limits.postLimiter(agentPostDefaults)))
  return l
}

/** Refusal reason for a body over MAX_BODY_CHARS, checked before any other rule reads it. */
export function bodyTooLong(body: string): string | null {
  return body.length > MAX_BODY_CHARS
    ? `the body is ${body.length.toLocaleString('en')} characters; the limit is ${MAX_BODY_CHARS.toLocaleString('en')}: shorten it or split it`
    : null
}

/** Refusal reason when the agent is over its message rate or its cap for the conversation. */
export function takePostAllowance(gw: Gateway, agentId: string, conversationId: string): Promise<string | null> {
  return limiterOf(gw).take(agentId, conversationId)
}
