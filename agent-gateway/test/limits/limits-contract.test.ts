import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryLimits, type Limits } from '../../src/limits/index.js'
import { redisLimits } from '../../src/limits/redis.js'
import { agentPostDefaults } from '../../src/agents/post-limits.js'

// One contract for where limits count: in this process, and in a real Redis on 127.0.0.1
// (REDIS_TEST_URL overrides), where several processes share them. Times are passed in, so the
// windows and delays are exact.

const redisUrl = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const opened: Array<{ close(): Promise<void> }> = []
afterAll(async () => {
  await Promise.all(opened.map((l) => l.close()))
})

/** A fresh Redis namespace per test: nothing carries over between tests or runs. */
function inRedis(): Limits {
  const l = redisLimits(redisUrl, `cc-test-${randomUUID()}:`)
  opened.push(l)
  return l
}

const backends: Array<[string, () => Limits]> = [['memory', () => memoryLimits], ['redis', inRedis]]

describe.each(backends)('limits (%s)', (_name, make) => {
  it('login: delays grow per account after the free failures, are capped, and a success clears them', async () => {
    const t = make().loginThrottle({ freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000, ipFailures: 1000 })
    let now = 1_000_000
    const waits: number[] = []
    for (let i = 0; i < 9; i++) {
      const v = await t.attempt('a@x', `10.0.0.${i}`, now) // a new address each time: the account is what counts
      if (v.ok) { waits.push(0); continue }
      expect(v.why).toBe('account')
      waits.push(v.retryAfterMs)
      now += v.retryAfterMs
      expect((await t.attempt('a@x', '10.0.1.1', now)).ok).toBe(true)
    }
    // 3 free; then 1 s, 2 s, 4 s, 8 s, 8 s … (each wait is for the attempt after a failure)
    expect(waits).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000])
    await t.succeeded('a@x', '10.0.1.1')
    expect((await t.attempt('a@x', '10.0.1.1', now)).ok).toBe(true)
    expect((await t.attempt('b@x', '10.0.1.1', now)).ok).toBe(true) // other accounts never waited
  })

  it('login: caps failures per IP across accounts; a success gives its attempt back', async () => {
    const t = make().loginThrottle({ ipFailures: 3, ipWindowMs: 60_000 })
    const now = Date.now()
    for (const a of ['a', 'b', 'c']) expect((await t.attempt(a, '10.0.0.1', now)).ok).toBe(true)
    expect(await t.attempt('d', '10.0.0.1', now + 1)).toEqual({ ok: false, why: 'ip', retryAfterMs: 59_999 })
    expect((await t.attempt('d', '10.0.0.2', now + 1)).ok).toBe(true)
    await t.succeeded('c', '10.0.0.1')
    expect((await t.attempt('d', '10.0.0.1', now + 2)).ok).toBe(true)
    expect((await t.attempt('e', '10.0.0.1', now + 60_000)).ok).toBe(true) // a new window
  })

  it('login: parallel guesses cannot all slip past the check', async () => {
    const t = make().loginThrottle({ freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 60_000, ipFailures: 1000 })
    const now = Date.now()
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => t.attempt('victim@x', '10.0.0.9', now)))
    expect(verdicts.filter((v) => v.ok)).toHaveLength(2) // the two free failures; the rest wait
  })

  it('window: at most `limit` per key per window, then the wait; other keys and names are apart', async () => {
    const l = make()
    const w = l.windowLimit('reset-address', { limit: 2, windowMs: 10_000 })
    const other = l.windowLimit('reset-ip', { limit: 2, windowMs: 10_000 })
    const now = Date.now()
    expect(await w.take('a', now)).toEqual({ ok: true })
    expect(await w.take('a', now + 1)).toEqual({ ok: true })
    expect(await w.take('a', now + 2_000)).toEqual({ ok: false, retryAfterMs: 8_000 })
    expect(await w.take('b', now + 2_000)).toEqual({ ok: true })
    expect(await other.take('a', now + 2_000)).toEqual({ ok: true })
    expect(await w.take('a', now + 10_000)).toEqual({ ok: true }) // the window starts again
  })

  it('agent posts: a burst per conversation, then one per interval; a rate per agent across conversations', async () => {
    const p = make().postLimiter({ ...agentPostDefaults, conversationBurst: 3, conversationIntervalMs: 1000, messageBurst: 4, messagesPerSecond: 1 })
    const now = Date.now()
    for (let i = 0; i < 3; i++) expect(await p.take('a1', 'c1', now)).toBeNull()
    expect(await p.take('a1', 'c1', now)).toMatch(/^too many messages in conversation c1: at most 3 at once, then one every 1 s/)
    expect(await p.take('a1', 'c1', now + 1000)).toBeNull() // refilled one
    expect(await p.take('a1', 'c2', now + 1000)).toBeNull()
    // The agent's burst of 4 and the one token a second brought are spent; a refused post counted nothing.
    expect(await p.take('a1', 'c3', now + 1000)).toMatch(/^too many messages: at most 4 at once, then 1 a second/)
    expect(await p.take('a2', 'c1', now + 1000)).toBeNull() // another agent has its own budgets
    expect(await p.take('a1', 'c3', now + 2000)).toBeNull()
  })
})

describe('limits in Redis are shared', () => {
  it('two servers with one prefix count against one budget; Redis unreachable fails the request', async () => {
    const prefix = `cc-test-${randomUUID()}:`
    const a = redisLimits(redisUrl, prefix)
    const b = redisLimits(redisUrl, prefix)
    opened.push(a, b)
    const now = Date.now()
    const ta = a.loginThrottle({ freeFailures: 1, baseDelayMs: 60_000, maxDelayMs: 60_000 })
    const tb = b.loginThrottle({ freeFailures: 1, baseDelayMs: 60_000, maxDelayMs: 60_000 })
    expect((await ta.attempt('x@x', '10.0.0.1', now)).ok).toBe(true)
    expect(await tb.attempt('x@x', '10.0.0.2', now)).toMatchObject({ ok: false, why: 'account', retryAfterMs: 60_000 })

    const down = redisLimits('redis://127.0.0.1:1', prefix)
    opened.push(down)
    await expect(down.windowLimit('w', { limit: 1, windowMs: 1000 }).take('k')).rejects.toMatchObject({ status: 503, code: 'limits_unavailable' })
  })
})
