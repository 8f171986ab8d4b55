import { createLoginThrottle, type LoginThrottle, type LoginThrottleOptions } from '../auth/login-throttle.js'
import { createWindowLimit, type WindowLimit, type WindowLimitOptions } from '../auth/window-limit.js'
import { MemoryPostLimiter, type AgentPostLimits, type PostLimiter } from '../agents/post-limits.js'

/**
 * Where request limits count: in this process (the embedded default), or in Redis (redis.ts)
 * when REDIS_URL is set, so that several processes share one budget. Each limiter is named, so
 * two of one kind never share counters.
 */
export interface Limits {
  loginThrottle(options?: Partial<LoginThrottleOptions>): LoginThrottle
  windowLimit(name: string, options: WindowLimitOptions): WindowLimit
  postLimiter(limits: AgentPostLimits): PostLimiter
}

export const memoryLimits: Limits = {
  loginThrottle: createLoginThrottle,
  windowLimit: (_name, options) => createWindowLimit(options),
  postLimiter: (limits) => new MemoryPostLimiter(limits)
}
