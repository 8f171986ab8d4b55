import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { eq } from 'drizzle-orm'
import { users } from '@circlechat/db'
import { closeCode } from '@circlechat/protocol'
import { dirMembersOf, docName, markRead, meReadsOf } from '@circlechat/model'
import type { WebsocketProvider } from 'y-websocket'
import { runDigestPass } from '../services/mention-digest.js'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import { startSmtpSink } from '../test/smtp-sink.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

let sink: Awaited<ReturnType<typeof startSmtpSink>>
let server: Awaited<ReturnType<typeof startTestServer>>
let ada: Awaited<ReturnType<typeof signupAdmin>>
let bob: Awaited<ReturnType<typeof addPerson>>
let general: string
const providers: WebsocketProvider[] = []

beforeAll(async () => {
  sink = await startSmtpSink()
  // The periodic digest is driven by hand below (runDigestPass); a day apart, it never fires itself.
  server = await startTestServer({ smtp: { url: sink.url }, mentionDigest: { everyMs: 24 * 60 * 60_000 } })
  ada = await signupAdmin(server.url)
  bob = await addPerson(server.url, ada.client, 'bob')
  general = (await ada.client.get('/api/conversations')).body.conversations[0].id
})
afterAll(async () => {
  for (const p of providers) p.destroy()
  await server.close()
  await sink.close()
})

const login = async (email: string, password = PASSWORD, userAgent = 'TestBrowser/1.0') => {
  const c = new Client(server.url)
  const res = await c.request('POST', '/api/auth/login', { email, password }, { 'user-agent': userAgent })
  expect(res.status).toBe(200)
  return c
}
const dirEntry = async (id: string) => dirMembersOf(await server.gateway.sync.getDoc(docName.dir(ada.workspace.id))).get(id)

describe('profile', () => {
  it('edits name, handle and title; the directory doc follows', async () => {
    const res = await bob.client.patch('/api/profile', { name: 'Robert', handle: 'Rob', title: 'Staff engineer' })
    expect(res.status).toBe(200)
    expect(res.body.member).toMatchObject({ name: 'Robert', handle: 'rob', title: 'Staff engineer' })
    expect(await dirEntry(bob.member.id)).toMatchObject({ name: 'Robert', handle: 'rob', title: 'Staff engineer' })
    expect((await bob.client.get('/api/me')).body.member.handle).toBe('rob')
  })

  it('refuses a taken or malformed handle, and unknown fields', async () => {
    const taken = await bob.client.patch('/api/profile', { handle: 'ada' })
    expect(taken.status).toBe(409)
    expect(taken.body.error).toBe('handle_taken')
    expect((await bob.client.patch('/api/profile', { handle: 'everyone' })).status).toBe(409)
    expect((await bob.client.patch('/api/profile', { handle: 'no spaces' })).status).toBe(400)
    expect((await bob.client.patch('/api/profile', { role: 'admin' })).status).toBe(400)
    expect((await bob.client.patch('/api/profile', { name: '' })).status).toBe(400)
    expect((await new Client(server.url).patch('/api/profile', { name: 'x' })).status).toBe(401)
  })

  it('sets an avatar from an uploaded image: its thumbnail, readable by the workspace', async () => {
    const png = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#c33' } }).png().toBuffer()
    const up = await bob.client.upload('/api/uploads', 'me.png', png, 'image/png')
    expect(up.status).toBe(201)
    const res = await bob.client.patch('/api/profile', { avatarKey: up.body.key })
    expect(res.status).toBe(200)
    expect(res.body.member.avatar).toBe(`/files/${up.body.key}/thumb`)
    expect((await dirEntry(bob.member.id))?.avatar).toBe(`/files/${up.body.key}/thumb`)
    const thumb = await ada.client.get(`/files/${up.body.key}/thumb`)
    expect(thumb.status).toBe(200)
    expect(thumb.headers.get('content-type')).toBe('image/webp')
    // Not a picture, or not mine: refused.
    const text = await bob.client.upload('/api/uploads', 'notes.txt', 'hello', 'text/plain')
    expect((await bob.client.patch('/api/profile', { avatarKey: text.body.key })).body.error).toBe('invalid_avatar')
    const adas = await ada.client.upload('/api/uploads', 'a.png', png, 'image/png')
    expect((await bob.client.patch('/api/profile', { avatarKey: adas.body.key })).body.error).toBe('invalid_avatar')
    // Removing it.
    expect((await bob.client.patch('/api/profile', { avatarKey: null })).body.member.avatar).toBeNull()
    expect((await bob.client.patch('/api/profile', { avatarKey: up.body.key })).body.member.avatar).toMatch(/thumb$/)
  })
})

describe('sessions and password', () => {
  it('lists sessions with device, address and last seen, the current one marked', async () => {
    const laptop = await login('bob@example.com', PASSWORD, 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156')
    const list = (await laptop.get('/api/profile/sessions')).body.sessions
    expect(list.length).toBeGreaterThanOrEqual(2)
    const current = list.filter((s: { current: boolean }) => s.current)
    expect(current).toHaveLength(1)
    expect(current[0]).toMatchObject({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156', ip: '127.0.0.1', lastSeenAt: expect.any(Number) })
    expect(JSON.stringify(list)).not.toContain(laptop.cookie!)
  })

  it('signs out one other session: its REST calls get 401 and its sockets close', async () => {
    const main = await login('bob@example.com')
    const phone = await login('bob@example.com', PASSWORD, 'Phone/1')
    const codes: number[] = []
    const p = syncClient(server.url, phone.cookie!, docName.me(bob.member.id))
    providers.push(p)
    p.on('connection-close', (e: { code: number } | null) => { if (e) codes.push(e.code) })
    await whenSynced(p)
    const target = (await main.get('/api/profile/sessions')).body.sessions.find((s: { userAgent: string }) => s.userAgent === 'Phone/1')
    expect((await main.delete(`/api/profile/sessions/${target.id}`)).status).toBe(200)
    expect((await phone.get('/api/me')).status).toBe(401)
    expect((await main.get('/api/me')).status).toBe(200)
    await waitFor(() => codes.length > 0)
    expect(codes[0]).toBe(closeCode.unauthorized)
    // Someone else's session is the same 404 as none.
    const adaSession = (await ada.client.get('/api/profile/sessions')).body.sessions[0].id
    expect((await main.delete(`/api/profile/sessions/${adaSession}`)).status).toBe(404)
    expect((await ada.client.get('/api/me')).status).toBe(200)
  })

  it('signs out all others at once', async () => {
    const keep = await login('bob@example.com')
    const other = await login('bob@example.com')
    const res = await keep.post('/api/profile/sessions/end-others')
    expect(res.body.ended).toBeGreaterThanOrEqual(2)
    expect((await other.get('/api/me')).status).toBe(401)
    expect((await bob.client.get('/api/me')).status).toBe(401)
    expect((await keep.get('/api/profile/sessions')).body.sessions).toHaveLength(1)
    bob.client = keep
  })

  it('changes the password with the current one; other sessions end, their sockets close', async () => {
    const other = await login('bob@example.com')
    const codes: number[] = []
    const p = syncClient(server.url, other.cookie!, docName.dir(ada.workspace.id))
    providers.push(p)
    p.on('connection-close', (e: { code: number } | null) => { if (e) codes.push(e.code) })
    await whenSynced(p)
    const wrong = await bob.client.post('/api/profile/password', { currentPassword: 'not it at all', newPassword: 'bob has a new one' })
    expect(wrong.status).toBe(403)
    expect((await bob.client.post('/api/profile/password', { currentPassword: PASSWORD, newPassword: 'short' })).status).toBe(400)
    const ok = await bob.client.post('/api/profile/password', { currentPassword: PASSWORD, newPassword: 'bob has a new one' })
    expect(ok.status).toBe(200)
    expect(ok.body.endedSessions).toBe(1)
    expect((await other.get('/api/me')).status).toBe(401)
    expect((await bob.client.get('/api/me')).status).toBe(200)
    await waitFor(() => codes.length > 0)
    expect(codes[0]).toBe(closeCode.unauthorized)
    expect((await new Client(server.url).post('/api/auth/login', { email: 'bob@example.com', password: PASSWORD })).status).toBe(401)
    await login('bob@example.com', 'bob has a new one')
  })
})

describe('mention digest', () => {
  const post = (c: Client, conversationId: string, bodyMd: string) => c.post(`/api/conversations/${conversationId}/messages`, { bodyMd })
  const now = () => Date.now()

  it('mails unread mentions of an away member who opted in, and nothing they may not read', async () => {
    const cy = await addPerson(server.url, ada.client, 'cy')
    expect((await cy.client.patch('/api/profile', { mentionDigest: true })).body.mentionDigest).toBe(true)
    // Cy was last seen before all of this.
    server.gateway.db.$client.prepare('UPDATE sessions SET last_seen_at = 1 WHERE user_id = (SELECT user_id FROM members WHERE id = ?)').run(cy.member.id)
    server.gateway.db.update(users).set({ digestThrough: 1 }).where(eq(users.email, 'cy@example.com')).run()
    const secret = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true })).body.conversation.id
    expect((await post(ada.client, general, 'hey @cy, the launch notes are in')).status).toBe(201)
    expect((await post(ada.client, secret, '@cy should never see this')).status).toBe(201)
    expect((await post(ada.client, general, 'unrelated chatter')).status).toBe(201)

    // Too recent: nothing yet.
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 60_000, batch: 10, perMail: 5 })).toBe(0)
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }, now() + 1000)).toBe(1)
    const mail = await sink.next((m) => m.to.includes('cy@example.com') && /mention/.test(m.subject))
    expect(mail.subject).toBe('1 unread mention in Acme')
    expect(mail.text).toContain('hey @cy, the launch notes are in')
    expect(mail.text).toContain(`${server.url}/c/${general}?m=`)
    expect(mail.text).not.toContain('never see this')
    expect(mail.text).not.toContain('unrelated')
    // Covered: the next pass sends nothing new.
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }, now() + 2000)).toBe(0)
  })

  it('skips mentions already read, members online, and members who opted out', async () => {
    const di = await addPerson(server.url, ada.client, 'di')
    await di.client.patch('/api/profile', { mentionDigest: true })
    server.gateway.db.$client.prepare('UPDATE sessions SET last_seen_at = 1 WHERE user_id = (SELECT user_id FROM members WHERE id = ?)').run(di.member.id)
    server.gateway.db.update(users).set({ digestThrough: 1 }).where(eq(users.email, 'di@example.com')).run()
    const m = (await post(ada.client, general, '@di read this one')).body.message
    // Di reads #general up to that message (as the web app does, in the me doc).
    await server.gateway.sync.transact(docName.me(di.member.id), { source: 'server', reason: 'test' }, (doc) => markRead(doc, general, m.createdAt))
    expect(meReadsOf(await server.gateway.sync.getDoc(docName.me(di.member.id))).get(general)).toBeGreaterThan(0)
    const before = sink.mails.length
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }, now() + 1000)).toBe(0)

    // Online (a socket open): not mailed, even with an unread mention.
    await post(ada.client, general, '@di while you are here')
    const p = syncClient(server.url, di.client.cookie!, docName.dir(ada.workspace.id))
    providers.push(p)
    await whenSynced(p)
    server.gateway.db.$client.prepare('UPDATE sessions SET last_seen_at = 1 WHERE user_id = (SELECT user_id FROM members WHERE id = ?)').run(di.member.id)
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }, now() + 1000)).toBe(0)
    p.destroy()
    await waitFor(() => !server.gateway.sync.connectedMembers().has(di.member.id))
    // Opted out: never mailed.
    await di.client.patch('/api/profile', { mentionDigest: false })
    expect(await runDigestPass(server.gateway, { everyMs: 1, delayMs: 0, batch: 10, perMail: 5 }, now() + 1000)).toBe(0)
    expect(sink.mails.slice(before).filter((x) => x.to.includes('di@example.com'))).toEqual([])
  })
})

async function waitFor(fn: () => boolean, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}
