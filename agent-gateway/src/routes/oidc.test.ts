import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { members, oidcIdentities, users } from '@circlechat/db'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import { startSmtpSink } from '../test/smtp-sink.js'
import { RedirectBrowser, freePort, startTestProvider, type ProviderAccount, type TestProvider } from '../test/oidc-provider.js'
import type { OidcSettings } from '../oidc/settings.js'
import { startServer } from '../server.js'

type Server = Awaited<ReturnType<typeof startTestServer>>

const ACCOUNTS: Record<string, ProviderAccount> = {
  'bob-at-idp': { email: 'bob@example.com', emailVerified: true, name: 'Bob Builder', preferredUsername: 'bob' },
  'eve-unverified': { email: 'eve@allowed.test', emailVerified: false, name: 'Eve' },
  'cara-allowed': { email: 'Cara@Allowed.test', emailVerified: true, name: 'Cara' },
  'dan-stranger': { email: 'dan@elsewhere.test', emailVerified: true, name: 'Dan' },
  'ada-at-idp': { email: 'ada@example.com', emailVerified: true, name: 'Ada L.' }
}

let provider: TestProvider
let server: Server

/** A provider and an app on a port chosen first, so the provider knows the redirect URI. */
async function start(oidc: Partial<OidcSettings> = {}, dataDir?: string): Promise<Server> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  provider ??= await startTestProvider({ redirectUri: `${base}/api/auth/oidc/callback`, accounts: ACCOUNTS })
  const settings: OidcSettings = {
    issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, name: 'Acme ID',
    allowedDomains: [], only: false, ...oidc
  }
  return startTestServer({ port, publicBaseUrl: base, oidc: settings, ...(dataDir ? { dataDir } : {}) })
}

/** The session cookie a finished sign-in left, as a REST client. */
function clientOf(browser: RedirectBrowser, base: string): Client {
  const c = new Client(base)
  c.cookie = browser.cookie(base, 'cc_session') ?? null
  return c
}

beforeEach(() => {
  provider = undefined as unknown as TestProvider
})
afterEach(async () => {
  await server?.close()
  await provider?.close()
})

describe('OIDC sign-in', () => {
  it('says whether the provider is configured, publicly', async () => {
    server = await start()
    const res = await new Client(server.url).get('/api/auth/oidc')
    expect(res.body).toEqual({ enabled: true, name: 'Acme ID', only: false })
    const plain = await startTestServer()
    try {
      expect((await new Client(plain.url).get('/api/auth/oidc')).body).toEqual({ enabled: false, name: null, only: false })
      expect((await new Client(plain.url).get('/api/auth/oidc/start')).status).toBe(404)
    } finally {
      await plain.close()
    }
  })

  it('sends the browser to the provider with PKCE (S256), a nonce and a state bound to a cookie', async () => {
    server = await start()
    const b = new RedirectBrowser(server.url)
    const res = await b.fetch(`${server.url}/api/auth/oidc/start`)
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin).toBe(provider.issuer)
    expect(to.searchParams.get('code_challenge_method')).toBe('S256')
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(to.searchParams.get('nonce')).toBeTruthy()
    expect(to.searchParams.get('redirect_uri')).toBe(`${server.url}/api/auth/oidc/callback`)
    expect(b.cookie(server.url, 'cc_oidc_state')).toBe(to.searchParams.get('state'))
    expect(res.headers.getSetCookie().join()).toMatch(/cc_oidc_state=.*HttpOnly/i)
  })

  it('creates an invited member on their first sign-in, and signs them in again by subject', async () => {
    server = await start()
    const { client: admin } = await signupAdmin(server.url)
    expect((await admin.post('/api/auth/invite', { email: 'bob@example.com', role: 'member' })).status).toBe(200)
    const b = new RedirectBrowser(server.url)
    const end = await b.signIn('bob-at-idp')
    expect(end.pathname).toBe('/')
    const me = await clientOf(b, server.url).get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body.user.email).toBe('bob@example.com')
    expect(me.body.member).toMatchObject({ name: 'Bob Builder', handle: 'bob', role: 'member' })
    // The invite is spent: it no longer opens.
    const ids = server.gateway.db.select().from(oidcIdentities).all()
    expect(ids).toEqual([expect.objectContaining({ issuer: provider.issuer, subject: 'bob-at-idp', email: 'bob@example.com' })])
    // Joined the public channels like an invite accepted with a password.
    const channels = (await clientOf(b, server.url).get('/api/conversations')).body.conversations as Array<{ name: string }>
    expect(channels.map((c) => c.name)).toContain('general')

    // Later sign-ins find the person by (issuer, subject), even after the provider's email changes.
    provider.accounts.set('bob-at-idp', { ...ACCOUNTS['bob-at-idp']!, email: 'robert@example.com' })
    const again = new RedirectBrowser(server.url)
    expect((await again.signIn('bob-at-idp')).pathname).toBe('/')
    expect((await clientOf(again, server.url).get('/api/me')).body.member.id).toBe(me.body.member.id)
  })

  it('makes a guest of a guest email invite accepted through the provider, in the invite\'s channels only', async () => {
    server = await start()
    const { client: admin } = await signupAdmin(server.url)
    const room = (await admin.post('/api/conversations', { kind: 'channel', name: 'client-room', isPrivate: true })).body.conversation.id as string
    await admin.post('/api/conversations', { kind: 'channel', name: 'internal' })
    const inv = await admin.post('/api/auth/invite', { email: 'bob@example.com', role: 'guest', channelIds: [room] })
    expect(inv.status).toBe(200)
    const b = new RedirectBrowser(server.url)
    expect((await b.signIn('bob-at-idp')).pathname).toBe('/')
    const bob = clientOf(b, server.url)
    expect((await bob.get('/api/me')).body.member).toMatchObject({ handle: 'bob', role: 'guest' })
    // The invite's channel and nothing else: not #general, not #internal, and no browsing them.
    const mine = (await bob.get('/api/conversations')).body.conversations as Array<{ id: string; name: string }>
    expect(mine.map((c) => c.name)).toEqual(['client-room'])
    expect((await bob.get('/api/conversations/browse')).status).toBe(403)
  })

  it('creates a member whose verified email is in an allowed domain, and refuses other domains', async () => {
    server = await start({ allowedDomains: ['allowed.test'] })
    await signupAdmin(server.url)
    const b = new RedirectBrowser(server.url)
    expect((await b.signIn('cara-allowed')).pathname).toBe('/')
    const me = await clientOf(b, server.url).get('/api/me')
    expect(me.body.user.email).toBe('cara@allowed.test')
    expect(me.body.member).toMatchObject({ role: 'member', handle: 'cara' })

    const stranger = new RedirectBrowser(server.url)
    const end = await stranger.signIn('dan-stranger')
    expect(end.pathname).toBe('/login')
    expect(end.searchParams.get('sso')).toBe('not_invited')
    expect(stranger.cookie(server.url, 'cc_session')).toBeUndefined()
    expect(server.gateway.db.select().from(users).where(eq(users.email, 'dan@elsewhere.test')).get()).toBeUndefined()
  })

  it('refuses an unverified email, even in an allowed domain', async () => {
    server = await start({ allowedDomains: ['allowed.test'] })
    await signupAdmin(server.url)
    const b = new RedirectBrowser(server.url)
    const end = await b.signIn('eve-unverified')
    expect(end.searchParams.get('sso')).toBe('unverified_email')
    expect(b.cookie(server.url, 'cc_session')).toBeUndefined()
    expect(server.gateway.db.select().from(members).all()).toHaveLength(1)
  })

  it('links an existing account once, after the member confirms their password', async () => {
    server = await start()
    const { member: ada } = await signupAdmin(server.url)
    const b = new RedirectBrowser(server.url)
    const end = await b.signIn('ada-at-idp')
    expect(end.pathname).toBe('/login')
    expect(end.searchParams.get('sso')).toBe('link')
    expect(b.cookie(server.url, 'cc_session')).toBeUndefined()
    const linkCookie = b.cookie(server.url, 'cc_oidc_link')!
    const page = new Client(server.url)
    const send = (password: string) =>
      b.fetch(`${server.url}/api/auth/oidc/link`, { method: 'POST', headers: { origin: server.url, 'content-type': 'application/json' }, body: JSON.stringify({ password }) })
    const info = await b.fetch(`${server.url}/api/auth/oidc/link`)
    expect(await info.json()).toEqual({ email: 'ada@example.com', provider: 'Acme ID' })

    const wrong = await send('not my password')
    expect(wrong.status).toBe(401)
    expect(server.gateway.db.select().from(oidcIdentities).all()).toHaveLength(0)
    // Without the cookie (another browser) there is nothing to link.
    expect((await page.post('/api/auth/oidc/link', { password: PASSWORD })).status).toBe(404)

    const right = await send(PASSWORD)
    expect(right.status).toBe(200)
    expect(b.cookie(server.url, 'cc_session')).toBeTruthy()
    expect((await clientOf(b, server.url).get('/api/me')).body.member.id).toBe(ada.id)
    // Spent: the same link request cannot be used again.
    b.setCookie(server.url, 'cc_oidc_link', linkCookie)
    expect((await send(PASSWORD)).status).toBe(404)

    // From now on the provider signs Ada in directly.
    const next = new RedirectBrowser(server.url)
    expect((await next.signIn('ada-at-idp')).pathname).toBe('/')
    expect((await clientOf(next, server.url).get('/api/me')).body.member.id).toBe(ada.id)
  })

  it('refuses a forged ID token: wrong signature, wrong audience, wrong issuer', async () => {
    server = await start()
    const { client: admin } = await signupAdmin(server.url)
    await admin.post('/api/auth/invite', { email: 'bob@example.com', role: 'member' })
    const cases: Array<[string, NonNullable<TestProvider['tamper']>]> = [
      ['signature', (t, f) => f.signWithOtherKey(t)],
      ['audience', (t, f) => f.signWithProviderKey(t, { ...f.claims(t), aud: 'someone-else' })],
      ['issuer', (t, f) => f.signWithProviderKey(t, { ...f.claims(t), iss: 'http://127.0.0.1:1' })]
    ]
    for (const [reason, tamper] of cases) {
      provider.tamper = tamper
      const b = new RedirectBrowser(server.url)
      const end = await b.signIn('bob-at-idp')
      expect(end.pathname, reason).toBe('/login')
      expect([end.searchParams.get('sso'), end.searchParams.get('detail')], reason).toEqual(['invalid_token', reason])
      expect(b.cookie(server.url, 'cc_session'), reason).toBeUndefined()
    }
    expect(server.gateway.db.select().from(users).where(eq(users.email, 'bob@example.com')).get()).toBeUndefined()
    // The honest answer still works, and spends the invite that the forgeries never touched.
    provider.tamper = null
    expect((await new RedirectBrowser(server.url).signIn('bob-at-idp')).pathname).toBe('/')
  })

  it('refuses a replayed state, and a state from another browser', async () => {
    server = await start()
    const { client: admin } = await signupAdmin(server.url)
    await admin.post('/api/auth/invite', { email: 'bob@example.com', role: 'member' })
    const b = new RedirectBrowser(server.url)
    expect((await b.signIn('bob-at-idp')).pathname).toBe('/')
    const callback = b.lastCallback!
    const state = new URL(callback).searchParams.get('state')!

    // Replay: the same callback with the same state cookie, in a fresh browser.
    const replay = new RedirectBrowser(server.url)
    replay.setCookie(server.url, 'cc_oidc_state', state)
    const again = await replay.follow(callback, 'bob-at-idp')
    expect(again.searchParams.get('sso')).toBe('state')
    expect(replay.cookie(server.url, 'cc_session')).toBeUndefined()

    // A fresh state whose cookie is in another browser (login CSRF): refused, and spent.
    const victim = new RedirectBrowser(server.url)
    const started = await victim.fetch(`${server.url}/api/auth/oidc/start`)
    const fresh = new URL(started.headers.get('location')!).searchParams.get('state')!
    const attacker = new RedirectBrowser(server.url)
    const forged = await attacker.follow(`${server.url}/api/auth/oidc/callback?code=x&state=${fresh}`, null)
    expect(forged.searchParams.get('sso')).toBe('state')
  })

  it('shows the provider refusing (the person cancelled) as a message, never a session', async () => {
    server = await start()
    await signupAdmin(server.url)
    const b = new RedirectBrowser(server.url)
    const end = await b.signIn(null)
    expect(end.pathname).toBe('/login')
    expect([end.searchParams.get('sso'), end.searchParams.get('detail')]).toEqual(['provider_error', 'access_denied'])
    expect(b.cookie(server.url, 'cc_session')).toBeUndefined()
  })

  it('says the provider is unreachable when discovery fails', async () => {
    server = await start()
    await provider.close()
    const b = new RedirectBrowser(server.url)
    const end = await b.signIn('bob-at-idp')
    expect(end.searchParams.get('sso')).toBe('unreachable')
    provider = undefined as unknown as TestProvider
  })
})

describe('OIDC_ONLY', () => {
  it('turns password sign-in off for everyone but the first admin', async () => {
    server = await start({ only: true })
    const { client: admin } = await signupAdmin(server.url)
    expect((await new Client(server.url).get('/api/auth/oidc')).body).toEqual({ enabled: true, name: 'Acme ID', only: true })
    // The break-glass admin (the first admin) still signs in with a password.
    expect((await new Client(server.url).post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(200)
    // An invite cannot be accepted with a password; it is accepted through the provider.
    const inv = await admin.post('/api/auth/invite', { email: 'bob@example.com', role: 'admin' })
    const accept = await new Client(server.url).post('/api/auth/accept-invite', { token: inv.body.token, email: 'bob@example.com', name: 'Bob', handle: 'bob', password: PASSWORD })
    expect(accept.status).toBe(403)
    expect(accept.body.error).toBe('sso_only')
    const b = new RedirectBrowser(server.url)
    expect((await b.signIn('bob-at-idp')).pathname).toBe('/')
    expect((await clientOf(b, server.url).get('/api/me')).body.member.role).toBe('admin')
    // Bob is an admin too, but not the break-glass one: no password sign-in (whatever the password).
    const bobLogin = await new Client(server.url).post('/api/auth/login', { email: 'bob@example.com', password: PASSWORD })
    expect(bobLogin.status).toBe(403)
    expect(bobLogin.body.message).toContain('Sign in with Acme ID')
    // Nor a password reset, which would be a way in around the provider.
    const forgot = await new Client(server.url).post('/api/auth/forgot', { email: 'bob@example.com' })
    expect([forgot.status, forgot.body.error]).toEqual([403, 'sso_only'])
    expect((await new Client(server.url).post('/api/auth/forgot', { email: 'ada@example.com' })).status).toBe(200)
  })

  it('names the break-glass account with OIDC_BREAK_GLASS_EMAIL instead', async () => {
    // Grace becomes an admin while passwords still work; then the server restarts SSO-only.
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-gateway-'))
    const first = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null })
    const { client: admin } = await signupAdmin(first.url)
    await addPerson(first.url, admin, 'grace', 'admin')
    await first.close()
    server = await start({ only: true, breakGlassEmail: 'grace@example.com' }, dataDir)
    expect((await new Client(server.url).post('/api/auth/login', { email: 'grace@example.com', password: PASSWORD })).status).toBe(200)
    expect((await new Client(server.url).post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(403)
  })

  it('refuses to complete a password reset mailed before OIDC_ONLY, but the break-glass admin\'s', async () => {
    // Both links are mailed while passwords still work; then the server restarts SSO-only.
    const sink = await startSmtpSink()
    try {
      const dataDir = await mkdtemp(join(tmpdir(), 'cc-gateway-'))
      const first = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, smtp: { url: sink.url } })
      const { client: admin } = await signupAdmin(first.url)
      await addPerson(first.url, admin, 'grace')
      const tokenFor = async (email: string) => {
        const mail = sink.next((m) => m.to.includes(email) && /reset/i.test(m.subject))
        expect((await new Client(first.url).post('/api/auth/forgot', { email })).status).toBe(200)
        return /\/reset\/([a-z2-7]+)/.exec((await mail).text)![1]!
      }
      const graceToken = await tokenFor('grace@example.com')
      const adaToken = await tokenFor('ada@example.com')
      await first.close()
      server = await start({ only: true }, dataDir)
      const hashOf = (email: string) => server.gateway.db.select({ h: users.passwordHash }).from(users).where(eq(users.email, email)).get()!.h
      const before = hashOf('grace@example.com')
      const refused = await new Client(server.url).post('/api/auth/reset', { token: graceToken, password: 'a way around the provider' })
      expect([refused.status, refused.body.error]).toEqual([403, 'sso_only'])
      expect(refused.headers.get('set-cookie')).toBeNull()
      expect(hashOf('grace@example.com')).toBe(before)
      expect((await new Client(server.url).post('/api/auth/login', { email: 'grace@example.com', password: 'a way around the provider' })).status).toBe(403)
      // The break-glass admin (the first admin) may still reset, and signs in with the new password.
      expect((await new Client(server.url).post('/api/auth/reset', { token: adaToken, password: 'the break-glass passphrase' })).status).toBe(200)
      expect((await new Client(server.url).post('/api/auth/login', { email: 'ada@example.com', password: 'the break-glass passphrase' })).status).toBe(200)
    } finally {
      await sink.close()
    }
  })
})
