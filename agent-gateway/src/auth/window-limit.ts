/**
 * At most `limit` events per key per `windowMs` (a fixed window), in memory, per process, with
 * at most `maxKeys` keys remembered: past that the oldest windows are forgotten first, so a
 * flood of new keys (addresses, IPs) costs bounded memory. Used where a request sends something
 * outward (a reset mail), so it cannot be used to flood a mailbox or the mail server.
 * limits/redis.ts keeps the same windows in Redis for several processes.
 */
export interface WindowLimit {
  /** Counts one event; false (with the wait) when the key is over its budget. */
  take(key: string, now?: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>
}

export interface WindowLimitOptions { limit: number; windowMs: number; maxKeys?: number }

export function createWindowLimit(o: WindowLimitOptions): WindowLimit {
  const maxKeys = o.maxKeys ?? 10_000
  // Insertion order is window start order: a window restarts by delete + set.
  const windows = new Map<string, { start: number; count: number }>()
  return {
    async take(key, now = Date.now()) {
      let w = windows.get(key)
      if (w && now - w.start >= o.windowMs) {
        windows.delete(key)
        w = undefined
      }
      if (!w) {
        for (const [k, old] of windows) {
          if (windows.size < maxKeys && now - old.start < o.windowMs) break
          windows.delete(k)
        }
        windows.set(key, (w = { start: now, count: 0 }))
      }
      if (w.count >= o.limit) return { ok: false, retryAfterMs: w.start + o.windowMs - now }
      w.count++
      return { ok: true }
    }
  }
}
