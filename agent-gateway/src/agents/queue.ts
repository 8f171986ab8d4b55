import type { TriggerEvent } from './packet.js'

/** Runs for one agent happen one at a time; what arrives meanwhile is coalesced. */
export interface RunQueue {
  enqueue(agentId: string, event: TriggerEvent, delayMs?: number): void
  /** Resolves when nothing is running or pending (tests and shutdown). */
  idle(): Promise<void>
  close(): Promise<void>
}

export type RunFn = (agentId: string, event: TriggerEvent) => Promise<unknown>

/** Which trigger a coalesced run keeps: the one most worth answering. */
const priority: Record<TriggerEvent['trigger'], number> = {
  test: 9, approval_response: 8, mention: 7, dm: 6, thread_reply: 5, task_assigned: 4, task_comment: 4, channel_post: 3, ambient: 2, scheduled: 1
}
export function coalesce(pending: TriggerEvent | null, next: TriggerEvent): TriggerEvent {
  return !pending || priority[next.trigger] >= priority[pending.trigger] ? next : pending
}

/** The default queue: in this process, no other service. */
export class InProcessQueue implements RunQueue {
  readonly #state = new Map<string, { running: boolean; pending: TriggerEvent | null }>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #closed = false
  #idleWaiters: Array<() => void> = []

  constructor(private readonly run: RunFn) {}

  enqueue(agentId: string, event: TriggerEvent, delayMs = 0) {
    if (this.#closed) return
    if (delayMs > 0) {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        this.enqueue(agentId, event)
      }, delayMs)
      this.#timers.add(t)
      return
    }
    const s = this.#state.get(agentId) ?? { running: false, pending: null }
    this.#state.set(agentId, s)
    s.pending = coalesce(s.pending, event)
    if (!s.running) void this.#drain(agentId, s)
  }

  async #drain(agentId: string, s: { running: boolean; pending: TriggerEvent | null }) {
    s.running = true
    while (s.pending && !this.#closed) {
      const event = s.pending
      s.pending = null
      try {
        await this.run(agentId, event)
      } catch (err) {
        console.error('agent run crashed', agentId, err)
      }
    }
    s.running = false
    this.#state.delete(agentId)
    if (this.#state.size === 0 && this.#timers.size === 0) for (const w of this.#idleWaiters.splice(0)) w()
  }

  idle(): Promise<void> {
    if (this.#state.size === 0 && this.#timers.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Stops taking runs and waits (at most graceMs) for the ones in flight to record how they ended. */
  async close(graceMs = 5000) {
    this.#closed = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.idle(), new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
  }
}
