/**
 * Fixed-window counter kept in memory: enough for one process (the default deployment). Several
 * processes would each allow `limit`, which is acceptable for login throttling.
 */
export interface RateLimiter {
  /** Counts one attempt; false when the key is over its limit for the current window. */
  hit(key: string, now?: number): boolean
  reset(key: string): void
}

export function createRateLimiter(limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>()
  let lastSweep = 0
  const sweep = (now: number) => {
    // Drop expired windows at most once a window, so the map cannot grow without bound.
    if (now - lastSweep < windowMs) return
    lastSweep = now
    for (const [key, w] of windows) if (now - w.start >= windowMs) windows.delete(key)
  }
  return {
    hit(key, now = Date.now()) {
      sweep(now)
      const w = windows.get(key)
      if (!w || now - w.start >= windowMs) {
        windows.set(key, { start: now, count: 1 })
        return true
      }
      w.count++
      return w.count <= limit
    },
    reset(key) {
      windows.delete(key)
    }
  }
}
