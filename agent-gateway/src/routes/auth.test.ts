import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { sessions } from '@circlechat/db'
import { hashSecret } from '../auth/tokens.js'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../test/harness.js'

describe('auth routes', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let admin: Client
  let adminMemberId: string

  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(async () => {
    await server.close()
  })

  it('GET /api/me without a session is 401 unauthenticated', async () => {
    const res = await new Client(server.url).get('/api/me')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: 'unauthenticated', message: expect.any(String) })
  })

  it('first signup creates the workspace, an admin and #general, and sets the cookie', async () => {
    expect((await new Client(server.url).get('/api/auth/setup')).body).toEqual({ hasWorkspace: false })
    const client = new Client(server.url)
    const res = await client.post('/api/auth/signup', { email: 'Ada@Example.com', password: PASSWORD, name: 'Ada', handle: 'Ada', workspaceName: 'Acme Inc.' })
    expect(res.status).toBe(201)
    expect(res.body.user).toEqual({ id: expect.stringMatching(/^u_/), email: 'ada@example.com' })
    expect(res.body.member).toMatchObject({ kind: 'user', name: 'Ada', handle: 'ada', role: 'admin' })
    expect(res.body.workspace).toMatchObject({ name: 'Acme Inc.', handle: 'acme-inc' })
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(/cc_session=[a-z2-7]{32};/)
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).toMatch(/Path=\//)
    expect(cookie).not.toMatch(/Secure/i) // plain http
    // The table holds only the hash of the token.
    const row = server.gateway.db.select().from(sessions).where(eq(sessions.id, hashSecret(client.cookie!))).get()
    expect(row?.userId).toBe(res.body.user.id)
    expect(server.gateway.db.select().from(sessions).where(eq(sessions.id, client.cookie!)).get()).toBeUndefined()

    const me = await client.get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body.member.id).toBe(res.body.member.id)
    const convs = await client.get('/api/conversations')
    expect(convs.body.conversations.map((c: { name: string }) => c.name)).toEqual(['general'])
    admin = client
    adminMemberId = res.body.member.id
  })

  it('once the workspace exists, GET /api/auth/setup says so to anyone', async () => {
    expect((await new Client(server.url).get('/api/auth/setup')).body).toEqual({ hasWorkspace: true })
  })

  it('a second signup is refused with 403 invite_required', async () => {
    const res = await new Client(server.url).post('/api/auth/signup', { email: 'eve@example.com', password: PASSWORD, name: 'Eve', handle: 'eve', workspaceName: 'Evil' })
    expect(res.status).toBe(403)
    expect(res.body.error).toBe('invite_required')
  })

  it('login with a wrong password is 401; with the right one sets a new session', async () => {
    const c = new Client(server.url)
    const bad = await c.post('/api/auth/login', { email: 'ada@example.com', password: 'nope-nope-nope' })
    expect(bad.status).toBe(401)
    expect(bad.body.error).toBe('invalid_credentials')
    const unknown = await c.post('/api/auth/login', { email: 'nobody@example.com', password: PASSWORD })
    expect(unknown.status).toBe(401)
    expect(unknown.body.error).toBe('invalid_credentials')
    const ok = await c.post('/api/auth/login', { email: 'ADA@example.com', password: PASSWORD })
    expect(ok.status).toBe(200)
    expect(ok.body.member.handle).toBe('ada')
    expect(c.cookie).toBeTruthy()
    expect((await c.get('/api/me')).status).toBe(200)
  })

  it('logout ends the session server-side and clears the cookie', async () => {
    const c = new Client(server.url)
    await c.post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })
    const token = c.cookie!
    const out = await c.post('/api/auth/logout')
    expect(out.status).toBe(200)
    expect(out.body).toEqual({ ok: true })
    expect(c.cookie).toBeNull()
    // Replaying the old token does not work either.
    c.cookie = token
    expect((await c.get('/api/me')).status).toBe(401)
  })

  it('admin invites; the link is looked up and accepted once; the newcomer joins public channels only', async () => {
    const pub = await admin.post('/api/conversations', { kind: 'channel', name: 'random' })
    const priv = await admin.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true })
    expect(pub.status).toBe(201)
    expect(priv.status).toBe(201)

    const inv = await admin.post('/api/auth/invite', { email: 'Bob@example.com' })
    expect(inv.status).toBe(200)
    expect(inv.body.url).toBe(`${server.url}/invite/${inv.body.token}`)

    const anon = new Client(server.url)
    const look = await anon.get(`/api/auth/invite/${inv.body.token}`)
    expect(look.status).toBe(200)
    expect(look.body).toEqual({ workspace: { name: 'Acme Inc.', handle: 'acme-inc' }, email: 'bob@example.com', role: 'member' })

    const wrongEmail = await anon.post('/api/auth/accept-invite', { token: inv.body.token, email: 'mallory@example.com', name: 'M', handle: 'mallory', password: PASSWORD })
    expect(wrongEmail.status).toBe(403)

    const bob = new Client(server.url)
    const acc = await bob.post('/api/auth/accept-invite', { token: inv.body.token, email: 'bob@example.com', name: 'Bob', handle: 'bob', password: PASSWORD })
    expect(acc.status).toBe(201)
    expect(acc.body.member).toMatchObject({ handle: 'bob', role: 'member', kind: 'user' })
    expect(acc.body.workspace.handle).toBe('acme-inc')
    const names = (await bob.get('/api/conversations')).body.conversations.map((c: { name: string }) => c.name).sort()
    expect(names).toEqual(['general', 'random'])

    const again = await new Client(server.url).post('/api/auth/accept-invite', { token: inv.body.token, email: 'bob@example.com', name: 'Bob2', handle: 'bob2', password: PASSWORD })
    expect(again.status).toBe(410)
    expect(again.body.error).toBe('invite_used')
    // Spent: 410 with why (an unknown token stays 404).
    expect((await anon.get(`/api/auth/invite/${inv.body.token}`)).body.error).toBe('invite_used')
    expect((await anon.get('/api/auth/invite/not-a-token')).body.error).toBe('invite_invalid')

    // Members cannot invite.
    const byMember = await bob.post('/api/auth/invite', { email: 'carol@example.com' })
    expect(byMember.status).toBe(403)
    expect(byMember.body.error).toBe('admin_only')

    const members = await bob.get('/api/members')
    expect(members.body.members.map((m: { handle: string }) => m.handle)).toEqual(['ada', 'bob'])
    expect(members.body.members[0]).toEqual({ id: adminMemberId, kind: 'user', name: 'Ada', handle: 'ada', role: 'admin', avatar: null, title: null, reportsTo: null })
  })

  it('accept-invite refuses a handle already taken with 409', async () => {
    const inv = await admin.post('/api/auth/invite', { email: 'dup@example.com' })
    const res = await new Client(server.url).post('/api/auth/accept-invite', { token: inv.body.token, email: 'dup@example.com', name: 'Dup', handle: 'ada', password: PASSWORD })
    expect(res.status).toBe(409)
    expect(res.body.error).toBe('handle_taken')
    // The failed attempt did not spend the invite.
    expect((await new Client(server.url).get(`/api/auth/invite/${inv.body.token}`)).status).toBe(200)
  })

  describe('CSRF', () => {
    it('refuses a cookie-authenticated POST without Origin', async () => {
      const c = new Client(server.url, { origin: null })
      c.cookie = admin.cookie
      const res = await c.post('/api/conversations', { kind: 'channel', name: 'no-origin' })
      expect(res.status).toBe(403)
      expect(res.body.error).toBe('csrf')
    })

    it('refuses a foreign Origin, even on login', async () => {
      const c = new Client(server.url, { origin: 'https://evil.example' })
      c.cookie = admin.cookie
      expect((await c.post('/api/conversations', { kind: 'channel', name: 'foreign' })).body.error).toBe('csrf')
      expect((await c.post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(403)
    })

    it('lets safe methods through without Origin', async () => {
      const c = new Client(server.url, { origin: null })
      c.cookie = admin.cookie
      expect((await c.get('/api/me')).status).toBe(200)
    })
  })

  it('after 5 failed logins for an account, the next waits (429 with Retry-After); other accounts do not', async () => {
    // More in login-throttle.test.ts: growing delays, the per-IP cap, TRUST_PROXY.
    const inv = await admin.post('/api/auth/invite', { email: 'rl@example.com' })
    await new Client(server.url).post('/api/auth/accept-invite', { token: inv.body.token, email: 'rl@example.com', name: 'RL', handle: 'rl', password: PASSWORD })
    const c = new Client(server.url)
    for (let i = 0; i < 5; i++) expect((await c.post('/api/auth/login', { email: 'rl@example.com', password: 'wrong-password' })).status).toBe(401)
    const blocked = await c.post('/api/auth/login', { email: 'rl@example.com', password: PASSWORD })
    expect(blocked.status).toBe(429)
    expect(blocked.body.error).toBe('rate_limited')
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another email from the same address is unaffected.
    expect((await c.post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(200)
  })

  describe('bad input is a 400, never a 500', () => {
    const cases: Array<[string, unknown]> = [
      ['missing fields', { email: 'x@example.com' }],
      ['bad email', { email: 'not-an-email', password: PASSWORD, name: 'X', handle: 'xx', workspaceName: 'W' }],
      ['short password', { email: 'x@example.com', password: 'short', name: 'X', handle: 'xx', workspaceName: 'W' }],
      ['bad handle', { email: 'x@example.com', password: PASSWORD, name: 'X', handle: '-bad handle', workspaceName: 'W' }],
      ['wrong types', { email: 42, password: true, name: [], handle: {}, workspaceName: null }],
      ['array body', [1, 2, 3]],
      ['null body', null]
    ]
    for (const [label, body] of cases) {
      it(`signup: ${label}`, async () => {
        const res = await new Client(server.url).request('POST', '/api/auth/signup', JSON.stringify(body))
        expect(res.status).toBe(400)
        expect(res.body.error).toBe('invalid_input')
        expect(typeof res.body.message).toBe('string')
      })
    }

    it('malformed JSON', async () => {
      const res = await new Client(server.url).request('POST', '/api/auth/login', '{"email": ')
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ error: 'invalid_input', message: expect.stringMatching(/JSON/) })
    })

    it('a body that is not JSON at all', async () => {
      const res = await new Client(server.url).request('POST', '/api/auth/login', 'email=a', { 'content-type': 'application/x-www-form-urlencoded' })
      expect(res.status).toBe(400)
      expect(res.body.error).toBe('invalid_input')
    })

    it('an unknown API path is a JSON 404', async () => {
      const res = await admin.get('/api/nope')
      expect(res.status).toBe(404)
      expect(res.body.error).toBe('not_found')
    })
  })

  it('GET /health answers ok', async () => {
    const res = await new Client(server.url).get('/health')
    expect(res).toMatchObject({ status: 200, body: { ok: true } })
  })
})
