/**
 * Throttles failed sign-ins without a lockout anyone can trigger. Per account: the first
 * `freeFailures` failures cost nothing; after that each further attempt must wait a delay that
 * doubles with every failure, capped at `maxDelayMs`, so guessing slows to a crawl while the owner
 * is never shut out for longer than the cap (a success clears the count). Per IP: at most
 * `ipFailures` failures per `ipWindowMs`, whatever the accounts, against spraying. In memory here;
 * limits/redis.ts keeps the same counts in Redis for several processes.
 */
export interface LoginThrottleOptions {
  freeFailures: number
  baseDelayMs: number
  maxDelayMs: number
  ipFailures: number
  ipWindowMs: number
}

export const loginThrottleDefaults: LoginThrottleOptions = {
  // 5 free: a person mistyping is never slowed. Then 1 s, 2 s, 4 s … capped at 5 minutes: about
  // 300 guesses a day at most per account, and the owner waits 5 minutes at worst.
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  // 30 failures per IP per 15 minutes: an office behind one NAT mistyping, not a spray.
  ipFailures: 30,
  ipWindowMs: 15 * 60_000
}

export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterMs: number; why: 'account' | 'ip' }

export interface LoginThrottle {
  /**
   * Asks to check a password for `account` from `ip`. When allowed, the attempt is counted as a
   * failure at once (so parallel guesses cannot all slip past the check) until `succeeded`.
   */
  attempt(account: string, ip: string, now?: number): Promise<ThrottleVerdict>
  /** The password was right: the account's failures are forgotten, and this attempt's count. */
  succeeded(account: string, ip: string): Promise<void>
}

/** Accounts forget their failures a day after the last one. */
export const ACCOUNT_MEMORY_MS = 24 * 60 * 60 * 1000

export function createLoginThrottle(options: Partial<LoginThrottleOptions> = {}): LoginThrottle {
  const o = { ...loginThrottleDefaults, ...options }
  const accounts = new Map<string, { failures: number; last: number }>()
  const ips = new Map<string, { start: number; count: number }>()
  let lastSweep = 0
  const sweep = (now: number) => {
    if (now - lastSweep < 60_000) return
    lastSweep = now
    for (const [k, a] of accounts) if (now - a.last >= ACCOUNT_MEMORY_MS) accounts.delete(k)
    for (const [k, w] of ips) if (now - w.start >= o.ipWindowMs) ips.delete(k)
  }
  const delayFor = (failures: number) =>
    failures < o.freeFailures ? 0 : Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(failures - o.freeFailures, 40))
  return {
    async attempt(account, ip, now = Date.now()) {
      sweep(now)
      let w = ips.get(ip)
      if (w && now - w.start >= o.ipWindowMs) w = undefined
      if (w && w.count >= o.ipFailures) return { ok: false, retryAfterMs: w.start + o.ipWindowMs - now, why: 'ip' }
      const a = accounts.get(account)
      const wait = a ? a.last + delayFor(a.failures) - now : 0
      if (wait > 0) return { ok: false, retryAfterMs: wait, why: 'account' }
      accounts.set(account, { failures: (a?.failures ?? 0) + 1, last: now })
      if (w) w.count++
      else ips.set(ip, { start: now, count: 1 })
      return { ok: true }
    },
    async succeeded(account, ip) {
      accounts.delete(account)
      const w = ips.get(ip)
      if (w && w.count > 0) w.count--
    }
  }
}
