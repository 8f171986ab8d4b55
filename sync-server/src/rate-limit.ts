/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  #tokens: number
  #last: number
  constructor(private readonly rate: number, private readonly burst: number, now = Date.now()) {
    this.#tokens = burst
    this.#last = now
  }

  take(count = 1, now = Date.now()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate)
    this.#last = now
    if (this.#tokens < count) return false
    this.#tokens -= count
    return true
  }
}
