/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  #tokens: number
  #last: number
  constructor(private readonly rate: number, private readonly burst: number, now = Date.now()) {
    this.#tokens = burst
    this.#last = now
  }

  take(count = 1, now = Date.now()): boolean {
    if (this.available(now) < count) return false
    this.#tokens -= count
    return true
  }

  /** Tokens that may be taken now. */
  available(now = Date.now()): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate)
    this.#last = now
    return this.#tokens
  }
}

/**
 * A connection's bucket plus a shared catch-up pool (per member and doc) it may draw on during
 * its first seconds, when a client back from offline flushes its outbox. The pool is spent first.
 */
export class CatchUpBucket {
  constructor(readonly bucket: TokenBucket, readonly pool: TokenBucket, readonly until: number) {}

  take(count = 1, now = Date.now()): boolean {
    if (now < this.until && this.pool.take(count, now)) return true
    return this.bucket.take(count, now)
  }

  /** The most one take may draw now (from the pool or the bucket, never both at once). */
  available(now = Date.now()): number {
    return Math.max(now < this.until ? this.pool.available(now) : 0, this.bucket.available(now))
  }
}
