/**
 * Token buckets per key (a sender's address, a channel), bounded in entries: a flood of
 * distinct senders evicts the oldest buckets instead of growing the map. An evicted sender starts
 * full again, which costs at most one burst; the per-channel bucket still holds.
 */
export class KeyedRate {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(private readonly burst: number, private readonly refillMs: number, private readonly maxKeys = 10_000) {}

  /** Takes one token for `key`; false (nothing taken) when its bucket is empty. */
  take(key: string, now = Date.now()): boolean {
    let b = this.#buckets.get(key)
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) / this.refillMs)
      b.at = now
      this.#buckets.delete(key) // re-inserted below: the map stays in least-recently-used order
    } else {
      b = { tokens: this.burst, at: now }
      if (this.#buckets.size >= this.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!)
    }
    this.#buckets.set(key, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  get size(): number {
    return this.#buckets.size
  }
}
