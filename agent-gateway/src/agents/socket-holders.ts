import type { Redis } from 'ioredis'

/** How long a claim outlives its last renewal: a killed process's agents move on after this. */
const HOLD_MS = 30_000
const RENEW_MS = 10_000

// Deletes the claim only if it is still this process's (the agent may have reconnected elsewhere).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
// Renews a claim unless another process has taken it: 0 means the agent connected there since.
const RENEW = `local h = redis.call('GET', KEYS[1]) if h and h ~= ARGV[1] then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`

/**
 * Which process holds each socket agent's WebSocket, in Redis, so a run triggered on one process
 * reaches the agent connected to another. A claim is renewed while the socket is open and
 * expires on its own when its process dies.
 */
export class SocketHolders {
  readonly #held = new Set<string>()
  readonly #timer: NodeJS.Timeout

  /** `onTaken`: the agent connected to another process since; this one's socket is stale. */
  constructor(private readonly redis: Redis, private readonly prefix: string, readonly processId: string, private readonly onTaken: (agentId: string) => void) {
    this.#timer = setInterval(() => void this.#renew(), RENEW_MS)
    this.#timer.unref()
  }

  #key(agentId: string) {
    return `${this.prefix}:agent-socket:${agentId}`
  }

  /** The newest connection wins, wherever it is: the older process finds out when it renews. */
  hold(agentId: string) {
    this.#held.add(agentId)
    void this.redis.set(this.#key(agentId), this.processId, 'PX', HOLD_MS).catch((err: Error) => console.error('could not record agent socket', err.message))
  }

  release(agentId: string) {
    this.#held.delete(agentId)
    void this.redis.eval(RELEASE, 1, this.#key(agentId), this.processId).catch(() => {})
  }

  /** The process holding the agent's socket, or null when none does. */
  async holder(agentId: string): Promise<string | null> {
    return this.redis.get(this.#key(agentId))
  }

  async #renew() {
    for (const agentId of [...this.#held]) {
      const kept = await this.redis.eval(RENEW, 1, this.#key(agentId), this.processId, HOLD_MS).catch((err: Error) => {
        console.error('could not renew agent socket', err.message)
        return 1
      })
      if (kept === 0 && this.#held.delete(agentId)) this.onTaken(agentId)
    }
  }

  async close() {
    clearInterval(this.#timer)
    await Promise.all([...this.#held].map((agentId) => this.redis.eval(RELEASE, 1, this.#key(agentId), this.processId).catch(() => {})))
    this.#held.clear()
  }
}
