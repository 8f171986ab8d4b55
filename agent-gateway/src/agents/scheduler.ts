import type { Db } from '@circlechat/db'
import type { RunQueue } from './queue.js'

/**
 * In-process heartbeats: one timer per agent at its interval. (With REDIS_URL the BullMQ queue's
 * job schedulers do this instead, so several processes never double-fire.) Ambient wakes ride on
 * the same tick: an agent with the `ambient` scope gets one for a channel that has been quiet for
 * `ambientQuietMs`, at most once per `ambientCooldownMs`.
 */
export class HeartbeatScheduler {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #lastAmbient = new Map<string, number>()

  constructor(private readonly db: Db, private readonly queue: RunQueue, private readonly ambient: { quietMs: number; cooldownMs: number }) {}

  /** Agents that can be called; a webhook agent without a callback starts when it registers one. */
  startAll() {
    const rows = this.db.$client.prepare(`SELECT a.id, a.heartbeat_interval_sec FROM agents a JOIN members m ON m.id = a.member_id WHERE m.deactivated = 0 AND a.adapter != 'peer' AND (a.adapter != 'webhook' OR a.callback_url IS NOT NULL)`).all() as Array<{ id: string; heartbeat_interval_sec: number }>
    for (const r of rows) this.set(r.id, r.heartbeat_interval_sec)
  }

  set(agentId: string, everySec: number | null) {
    clearInterval(this.#timers.get(agentId))
    this.#timers.delete(agentId)
    if (everySec === null) return
    const timer = setInterval(() => this.tick(agentId), everySec * 1000)
    timer.unref()
    this.#timers.set(agentId, timer)
  }

  tick(agentId: string) {
    this.queue.enqueue(agentId, { trigger: 'scheduled', conversationId: null })
    this.wakeQuietChannels(agentId)
  }

  /** Queues ambient wakes for the agent's quiet channels (also called on BullMQ heartbeats). */
  wakeQuietChannels(agentId: string) {
    for (const conversationId of this.#quietChannels(agentId)) {
      this.#lastAmbient.set(`${agentId}:${conversationId}`, Date.now())
      this.queue.enqueue(agentId, { trigger: 'ambient', conversationId })
    }
  }

  #quietChannels(agentId: string): string[] {
    const scopes = this.db.$client.prepare('SELECT scopes FROM agents WHERE id = ?').pluck().get(agentId) as string | undefined
    if (!scopes || !(JSON.parse(scopes) as string[]).includes('ambient')) return []
    const now = Date.now()
    const rows = this.db.$client.prepare(`
      SELECT c.id, (SELECT max(created_at) FROM messages WHERE conversation_id = c.id) AS last
      FROM conversations c JOIN conversation_members cm ON cm.conversation_id = c.id JOIN agents a ON a.member_id = cm.member_id
      WHERE a.id = ? AND c.kind = 'channel'`).all(agentId) as Array<{ id: string; last: number | null }>
    return rows
      .filter((r) => r.last !== null && now - r.last >= this.ambient.quietMs)
      .filter((r) => now - (this.#lastAmbient.get(`${agentId}:${r.id}`) ?? 0) >= this.ambient.cooldownMs)
      .map((r) => r.id)
  }

  stop() {
    for (const t of this.#timers.values()) clearInterval(t)
    this.#timers.clear()
  }
}
