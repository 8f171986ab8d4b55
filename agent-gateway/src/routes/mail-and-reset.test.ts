import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { passwordResets } from '@circlechat/db'
import { closeCode } from '@circlechat/protocol'
import { docName } from '@circlechat/model'
import type { WebsocketProvider } from 'y-websocket'
import { hashSecret } from '../auth/tokens.js'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import { startSmtpSink } from '../test/smtp-sink.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

/** Invites and password resets mailed through a real SMTP server on loopback; the links work. */
let sink: Awaited<ReturnType<typeof startSmtpSink>>
let server: Awaited<ReturnType<typeof startTestServer>>
let admin: Awaited<ReturnType<typeof signupAdmin>>
const providers: WebsocketProvider[] = []

beforeAll(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ smtp: { url: sink.url, from: 'CircleChat <chat@acme.test>' }, trustProxy: ['127.0.0.1'] })
  admin = await signupAdmin(server.url)
})
afterAll(async () => {
  for (const p of providers) p.destroy()
  await server.close()
  await sink.close()
})

const linkIn = (text: string, path: string) => {
  const m = new RegExp(`${server.url.replace(/[.:/]/g, '\\$&')}${path}/([a-z2-7]+)`).exec(text)
  if (!m) throw new Error(`no ${path} link in: ${text}`)
  return m[1]!
}
/** Each test its own client address, so the per-IP reset budget is not shared between them. */
let ipCount = 0
const fromNewIp = () => {
  const c = new Client(server.url)
  const ip = `10.0.0.${++ipCount}`
  const request = c.request.bind(c)
  c.request = (method, path, body, headers = {}) => request(method, path, body, { 'x-forwarded-for': ip, ...headers })
  return c
}
const forgot = (c: Client, email: string) => c.post('/api/auth/forgot', { email })
const resetMailTo = (email: string) => sink.next((m) => m.to.includes(email) && m.subject === 'Reset your CircleChat password')

describe('invites by mail', () => {
  it('mails the invite with a working link to accept it', async () => {
    const res = await admin.client.post('/api/auth/invite', { email: 'grace@example.com' })
    expect(res.status).toBe(200)
    expect(res.body.mailed).toBe(true)
    const mail = await sink.next((m) => m.to.includes('grace@example.com'))
    expect(mail.from).toBe('chat@acme.test')
    expect(mail.subject).toBe('Ada invited you to Acme on CircleChat')
    const token = linkIn(mail.text, '/invite')
    expect(token).toBe(res.body.token)
    const grace = new Client(server.url)
    expect((await grace.get(`/api/auth/invite/${token}`)).body.email).toBe('grace@example.com')
    const accepted = await grace.post('/api/auth/accept-invite', { token, email: 'grace@example.com', name: 'Grace', handle: 'grace', password: PASSWORD })
    expect(accepted.status).toBe(201)
    expect((await grace.get('/api/me')).body.member.handle).toBe('grace')
  })
})

describe('password reset', () => {
  it('mails a single-use link; the new password works, the old one and the link do not', async () => {
    const c = fromNewIp()
    const res = await forgot(c, 'Grace@Example.com')
    expect(res.status).toBe(200)
    const mail = await resetMailTo('grace@example.com')
    expect(mail.subject).toBe('Reset your CircleChat password')
    const token = linkIn(mail.text, '/reset')
    // Only the hash is stored.
    expect(server.gateway.db.select().from(passwordResets).where(eq(passwordResets.tokenHash, token)).get()).toBeUndefined()
    expect(server.gateway.db.select().from(passwordResets).where(eq(passwordResets.tokenHash, hashSecret(token))).get()).toBeDefined()
    expect((await c.get(`/api/auth/reset/${token}`)).body).toEqual({ email: 'grace@example.com' })

    const done = await c.post('/api/auth/reset', { token, password: 'a brand new passphrase' })
    expect(done.status).toBe(200)
    expect((await c.get('/api/me')).body.member.handle).toBe('grace') // signed in afresh
    const again = await new Client(server.url).post('/api/auth/reset', { token, password: 'another one entirely' })
    expect(again.status).toBe(404)
    expect(again.body.error).toBe('reset_invalid')
    expect((await new Client(server.url).get(`/api/auth/reset/${token}`)).status).toBe(404)
    expect((await new Client(server.url).post('/api/auth/login', { email: 'grace@example.com', password: PASSWORD })).status).toBe(401)
    expect((await new Client(server.url).post('/api/auth/login', { email: 'grace@example.com', password: 'a brand new passphrase' })).status).toBe(200)
  })

  it('answers an unknown address exactly as a known one, and mails nothing', async () => {
    const before = sink.mails.length
    const unknown = await forgot(fromNewIp(), 'nobody@example.com')
    const known = await forgot(fromNewIp(), 'ada@example.com')
    expect(unknown.status).toBe(known.status)
    expect(unknown.body).toEqual(known.body)
    await resetMailTo('ada@example.com')
    expect(sink.mails.slice(before).map((m) => m.to)).toEqual([['ada@example.com']])
  })

  it('refuses an expired token and a wrong one', async () => {
    // Each test its own person: the address budget is 3 mails an hour.
    await addPerson(server.url, admin.client, 'ken')
    await forgot(fromNewIp(), 'ken@example.com')
    const token = linkIn((await resetMailTo('ken@example.com')).text, '/reset')
    server.gateway.db.update(passwordResets).set({ expiresAt: Date.now() - 1 }).where(eq(passwordResets.tokenHash, hashSecret(token))).run()
    const expired = await new Client(server.url).post('/api/auth/reset', { token, password: 'too late for this' })
    expect(expired.status).toBe(404)
    expect(expired.body.message).toMatch(/invalid, expired or already used/)
    const wrong = await new Client(server.url).post('/api/auth/reset', { token: 'a'.repeat(32), password: 'guessing is futile' })
    expect(wrong.status).toBe(404)
    // A weak new password is refused before the token is spent.
    await forgot(fromNewIp(), 'ken@example.com')
    const fresh = linkIn((await resetMailTo('ken@example.com')).text, '/reset')
    expect((await new Client(server.url).post('/api/auth/reset', { token: fresh, password: 'short' })).status).toBe(400)
    expect((await new Client(server.url).get(`/api/auth/reset/${fresh}`)).status).toBe(200)
  })

  it('a newer link replaces the older one', async () => {
    await addPerson(server.url, admin.client, 'lin')
    await forgot(fromNewIp(), 'lin@example.com')
    const first = linkIn((await resetMailTo('lin@example.com')).text, '/reset')
    await forgot(fromNewIp(), 'lin@example.com')
    const second = linkIn((await resetMailTo('lin@example.com')).text, '/reset')
    expect((await new Client(server.url).get(`/api/auth/reset/${first}`)).status).toBe(404)
    expect((await new Client(server.url).get(`/api/auth/reset/${second}`)).status).toBe(200)
  })

  it('throttles per address and per IP, whether or not the address exists', async () => {
    const c = fromNewIp()
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await forgot(c, 'ghost@example.com')).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const ip = fromNewIp()
    const perIp = []
    for (let i = 0; i < 21; i++) perIp.push((await forgot(ip, `spray${i}@example.com`)).status)
    expect(perIp.slice(0, 20).every((s) => s === 200)).toBe(true)
    expect(perIp[20]).toBe(429)
  })

  it('ends every other session: their REST calls get 401 and their sockets close', async () => {
    const phone = new Client(server.url)
    expect((await phone.post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(200)
    const codes: number[] = []
    const p = syncClient(server.url, phone.cookie!, docName.me(admin.member.id))
    providers.push(p)
    p.on('connection-close', (e: { code: number } | null) => { if (e) codes.push(e.code) })
    await whenSynced(p)

    await forgot(fromNewIp(), 'ada@example.com')
    const token = linkIn((await resetMailTo('ada@example.com')).text, '/reset')
    const laptop = new Client(server.url)
    expect((await laptop.post('/api/auth/reset', { token, password: 'ada resets it all' })).status).toBe(200)

    expect((await phone.get('/api/me')).status).toBe(401)
    expect((await admin.client.get('/api/me')).status).toBe(401)
    expect((await laptop.get('/api/me')).status).toBe(200)
    const until = Date.now() + 5000
    while (codes.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    expect(codes[0]).toBe(closeCode.unauthorized)
    admin.client = laptop
  })
})

describe('without SMTP_URL', () => {
  it('prints the reset link to the log, and it works', async () => {
    const plain = await startTestServer()
    const lines: string[] = []
    const log = console.log
    console.log = (...args: unknown[]) => { lines.push(args.join(' ')) }
    try {
      await signupAdmin(plain.url)
      const res = await new Client(plain.url).post('/api/auth/forgot', { email: 'ada@example.com' })
      expect(res.status).toBe(200)
      const until = Date.now() + 5000
      while (!lines.some((l) => l.includes('/reset/')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    } finally {
      console.log = log
    }
    const line = lines.find((l) => l.includes('/reset/'))!
    expect(line).toContain('mail to ada@example.com (not sent: SMTP_URL is unset)')
    const token = /\/reset\/([a-z2-7]+)/.exec(line)![1]!
    expect((await new Client(plain.url).post('/api/auth/reset', { token, password: 'from the log file' })).status).toBe(200)
    await plain.close()
  })
})
