import { afterEach, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { clientIpResolver, normalizeIp } from '../auth/client-ip.js'
import { PASSWORD, signupAdmin, startTestServer } from '../test/harness.js'

// Failed sign-ins slow an account down without locking its owner out, a per-IP cap stops
// spraying (the counting itself: test/limits/limits-contract.test.ts), and X-Forwarded-For is believed only from TRUST_PROXY addresses. Requests come from
// distinct loopback source addresses (127.0.0.x) over real HTTP.

let server: Awaited<ReturnType<typeof startTestServer>> | null = null
afterEach(async () => {
  await server?.close()
  server = null
})

interface Answer { status: number; retryAfter: number | null; body: { error?: string; message?: string } }

/** POST /api/auth/login from source address `from`, with extra headers. */
function login(base: string, from: string, email: string, password: string, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = JSON.stringify({ email, password })
  const url = new URL('/api/auth/login', base)
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', localAddress: from, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), origin: base, ...headers }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => {
        const ra = res.headers['retry-after']
        resolve({ status: res.statusCode ?? 0, retryAfter: ra ? Number(ra) : null, body: JSON.parse(text || '{}') })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('login throttle', () => {
  it('ten wrong passwords from one IP do not lock the owner out: after the delay they sign in from another', async () => {
    // Ten free failures, then 3 s: the delay the tenth failure starts is long enough to see.
    server = await startTestServer({ loginThrottle: { freeFailures: 10, baseDelayMs: 3000, maxDelayMs: 3000, ipFailures: 10 } })
    await signupAdmin(server.url)
    const attacker = '127.0.0.2'
    const owner = '127.0.0.3'
    for (let i = 0; i < 10; i++) expect((await login(server.url, attacker, 'ada@example.com', `guess-${i}`)).status).toBe(401)
    // Right after the tenth failure the account is delayed, for everyone, with a time to wait…
    const delayed = await login(server.url, owner, 'ada@example.com', PASSWORD)
    expect(delayed.status).toBe(429)
    expect(delayed.body.message).toMatch(/for this account/)
    expect(delayed.retryAfter).toBeGreaterThan(0)
    // …and after it the owner is in, from their own address.
    await sleep(delayed.retryAfter! * 1000)
    expect((await login(server.url, owner, 'ada@example.com', PASSWORD)).status).toBe(200)
    // The attacker's address has used its ten failures: it is refused even for other accounts.
    const sprayed = await login(server.url, attacker, 'nobody@example.com', 'x')
    expect(sprayed.status).toBe(429)
    expect(sprayed.body.message).toMatch(/from your network/)
    expect((await login(server.url, owner, 'nobody@example.com', 'x')).status).toBe(401)
  })

  it('with REDIS_URL, failures counted by one server slow the account on another', async () => {
    const prefix = `cc-test-${randomUUID()}:`
    const shared = { redisUrl: 'redis://127.0.0.1:6379', redisPrefix: prefix, agents: { queuePrefix: prefix }, loginThrottle: { freeFailures: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 } }
    server = await startTestServer(shared)
    const other = await startTestServer(shared)
    try {
      await signupAdmin(other.url)
      for (let i = 0; i < 3; i++) expect((await login(server.url, '127.0.0.2', 'ada@example.com', `guess-${i}`)).status).toBe(401)
      const refused = await login(other.url, '127.0.0.3', 'ada@example.com', PASSWORD)
      expect(refused.status).toBe(429)
      expect(refused.retryAfter).toBeGreaterThan(50)
    } finally {
      await other.close()
    }
  })

  it('believes X-Forwarded-For only from a TRUST_PROXY address', async () => {
    // Account delays out of the way: only the per-IP cap (3) shows which address was seen.
    server = await startTestServer({ trustProxy: ['127.0.0.1'], loginThrottle: { freeFailures: 1000, ipFailures: 3 } })
    const proxy = '127.0.0.1'
    const direct = '127.0.0.2'
    const fail = (from: string, xff: string, n: number) => login(server!.url, from, `u${n}@example.com`, 'x', { 'x-forwarded-for': xff })
    for (let i = 0; i < 3; i++) expect((await fail(proxy, '198.51.100.1', i)).status).toBe(401)
    expect((await fail(proxy, '198.51.100.1', 3)).status).toBe(429) // that client is capped
    expect((await fail(proxy, '198.51.100.2', 4)).status).toBe(401) // another client behind the proxy is not
    // What the client itself wrote to the left of what the proxy appended proves nothing.
    expect((await fail(proxy, '203.0.113.7, 198.51.100.1', 5)).status).toBe(429)

    // Not from the proxy: the header is ignored, the socket's address counts.
    for (let i = 0; i < 3; i++) expect((await fail(direct, `198.51.100.${10 + i}`, 10 + i)).status).toBe(401)
    expect((await fail(direct, '198.51.100.20', 20)).status).toBe(429)
  })

  it('ignores X-Forwarded-For without TRUST_PROXY', async () => {
    server = await startTestServer({ loginThrottle: { freeFailures: 1000, ipFailures: 3 } })
    for (let i = 0; i < 3; i++) expect((await login(server.url, '127.0.0.1', `v${i}@example.com`, 'x', { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401)
    expect((await login(server.url, '127.0.0.1', 'v9@example.com', 'x', { 'x-forwarded-for': '198.51.100.99' })).status).toBe(429)
  })

  it('normalizes IPv4-mapped peers and rejects bad TRUST_PROXY entries', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(() => clientIpResolver(['not-an-ip'])).toThrow(/not an IP/)
    expect(() => clientIpResolver(['10.0.0.0/33'])).toThrow(/not an IP/)
    expect(() => clientIpResolver(['10.0.0.0/8', '::1', 'fd00::/8'])).not.toThrow()
  })
})
