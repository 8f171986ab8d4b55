import { Redis } from 'ioredis'
import { ACCOUNT_MEMORY_MS, loginThrottleDefaults, type LoginThrottle, type LoginThrottleOptions } from '../auth/login-throttle.js'
import type { WindowLimit } from '../auth/window-limit.js'
import { postLimitReason, type AgentPostLimits, type PostLimiter } from '../agents/post-limits.js'
import { ApiError } from '../errors.js'
import type { Limits } from './index.js'

/**
 * The same limits as the in-memory ones, kept in Redis so every process behind a load balancer
 * counts against one budget. Each check is one Lua script: read, decide and count in one step, as
 * the in-memory versions do in one turn of the event loop, so parallel guesses on two processes
 * cannot both slip past. Keys expire when there is nothing left to remember.
 */

// KEYS: account, ip. ARGV: now, freeFailures, baseDelayMs, maxDelayMs, ipFailures, ipWindowMs, accountMemoryMs.
const ATTEMPT = `
local now = tonumber(ARGV[1])
local ipStart = tonumber(redis.call('HGET', KEYS[2], 'start'))
local ipCount = tonumber(redis.call('HGET', KEYS[2], 'count')) or 0
if ipStart and now - ipStart >= tonumber(ARGV[6]) then ipStart = nil; ipCount = 0 end
if ipStart and ipCount >= tonumber(ARGV[5]) then return {0, ipStart + tonumber(ARGV[6]) - now, 'ip'} end
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures'))
if failures then
  local free = tonumber(ARGV[2])
  local delay = 0
  if failures >= free then delay = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(failures - free, 40)) end
  local wait = tonumber(redis.call('HGET', KEYS[1], 'last')) + delay - now
  if wait > 0 then return {0, wait, 'account'} end
end
redis.call('HSET', KEYS[1], 'failures', (failures or 0) + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if ipStart then
  redis.call('HINCRBY', KEYS[2], 'count', 1)
else
  redis.call('HSET', KEYS[2], 'start', now, 'count', 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return {1}
`

// KEYS: account, ip.
const SUCCEEDED = `
redis.call('DEL', KEYS[1])
local count = tonumber(redis.call('HGET', KEYS[2], 'count'))
if count and count > 0 then redis.call('HINCRBY', KEYS[2], 'count', -1) end
return 1
`

// KEYS: window. ARGV: now, limit, windowMs. A window starts at its first event, as in memory.
const TAKE = `
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
local now = tonumber(ARGV[1])
if start and now - start >= tonumber(ARGV[3]) then start = nil end
if not start then
  redis.call('HSET', KEYS[1], 'start', now, 'count', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  start = now
end
if tonumber(redis.call('HGET', KEYS[1], 'count')) >= tonumber(ARGV[2]) then return {0, start + tonumber(ARGV[3]) - now} end
redis.call('HINCRBY', KEYS[1], 'count', 1)
return {1}
`

// KEYS: the conversation bucket, the agent bucket. ARGV: now, then per bucket tokens per ms and burst.
const POST = `
local now = tonumber(ARGV[1])
local function level(key, perMs, burst)
  local t = redis.call('HMGET', key, 'tokens', 'last')
  local tokens = tonumber(t[1]) or burst
  local last = tonumber(t[2]) or now
  return math.min(burst, tokens + (now - last) * perMs)
end
local conv = level(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
if conv < 1 then return 'conversation' end
local agent = level(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5]))
if agent < 1 then return 'agent' end
redis.call('HSET', KEYS[1], 'tokens', conv - 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / tonumber(ARGV[2])))
redis.call('HSET', KEYS[2], 'tokens', agent - 1, 'last', now)
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[5]) / tonumber(ARGV[4])))
return false
`

type Scripted = Redis & {
  ccAttempt(account: string, ip: string, ...args: number[]): Promise<[number, number?, string?]>
  ccSucceeded(account: string, ip: string): Promise<number>
  ccTake(key: string, ...args: number[]): Promise<[number, number?]>
  ccPost(conv: string, agent: string, ...args: number[]): Promise<string | null>
}

/** Limits in Redis under `prefix`; close() ends its connection. */
export function redisLimits(redisUrl: string, prefix: string): Limits & { close(): Promise<void> } {
  // A request waits at most 2 s for Redis, then fails with an error rather than hanging.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2000 }) as Scripted
  redis.defineCommand('ccAttempt', { numberOfKeys: 2, lua: ATTEMPT })
  redis.defineCommand('ccSucceeded', { numberOfKeys: 2, lua: SUCCEEDED })
  redis.defineCommand('ccTake', { numberOfKeys: 1, lua: TAKE })
  redis.defineCommand('ccPost', { numberOfKeys: 2, lua: POST })
  // ioredis retries the connection by itself; say so once per outage, not once per retry.
  let down = false
  redis.on('error', (err: Error) => {
    if (!down) console.error(`rate limits: Redis unreachable (${err.message}); limited requests fail until it is back`)
    down = true
  })
  redis.on('ready', () => (down = false))
  /** A check that cannot reach Redis refuses the request (503) rather than letting it through unlimited. */
  const run = async <T>(check: () => Promise<T>): Promise<T> => {
    try {
      return await check()
    } catch (err) {
      throw new ApiError(503, 'limits_unavailable', `Rate limits cannot be checked right now (${err instanceof Error ? err.message : String(err)}); try again in a moment.`)
    }
  }
  const key = (...parts: string[]) => `${prefix}limit:${parts.map(encodeURIComponent).join(':')}`
  return {
    loginThrottle(options: Partial<LoginThrottleOptions> = {}): LoginThrottle {
      const o = { ...loginThrottleDefaults, ...options }
      return {
        async attempt(account, ip, now = Date.now()) {
          const [ok, wait, why] = await run(() => redis.ccAttempt(key('login-account', account), key('login-ip', ip),
            now, o.freeFailures, o.baseDelayMs, o.maxDelayMs, o.ipFailures, o.ipWindowMs, ACCOUNT_MEMORY_MS))
          return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: wait!, why: why as 'account' | 'ip' }
        },
        async succeeded(account, ip) {
          await run(() => redis.ccSucceeded(key('login-account', account), key('login-ip', ip)))
        }
      }
    },
    windowLimit(name, o): WindowLimit {
      return {
        async take(k, now = Date.now()) {
          const [ok, wait] = await run(() => redis.ccTake(key('window', name, k), now, o.limit, o.windowMs))
          return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: wait! }
        }
      }
    },
    postLimiter(limits: AgentPostLimits): PostLimiter {
      return {
        limits,
        async take(agentId, conversationId, now = Date.now()) {
          const over = await run(() => redis.ccPost(key('post-conversation', agentId, conversationId), key('post-agent', agentId), now,
            1 / limits.conversationIntervalMs, limits.conversationBurst, limits.messagesPerSecond / 1000, limits.messageBurst))
          return over === 'conversation' || over === 'agent' ? postLimitReason(limits, over, conversationId) : null
        }
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    }
  }
}
