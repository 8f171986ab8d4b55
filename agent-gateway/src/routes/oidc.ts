import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { eq } from 'drizzle-orm'
import { users } from '@circlechat/db'
import { clientIpResolver } from '../auth/client-ip.js'
import { burnPasswordCheck, verifyPassword } from '../auth/passwords.js'
import { createSession, setSessionCookie } from '../auth/sessions.js'
import type { Gateway } from '../deps.js'
import { ApiError, notFound } from '../errors.js'
import { validate } from '../middleware/validate.js'
import { linkIdentity, resolveIdentity } from '../oidc/accounts.js'
import { OidcClient, OidcProviderError, OidcRefused } from '../oidc/client.js'
import { PENDING_TTL_MS, peekPending, putPending, takePending } from '../oidc/pending.js'

/** Both cookies ride only to these routes, and only for the ten minutes a sign-in may take. */
const COOKIE_PATH = '/api/auth/oidc'
const STATE_COOKIE = 'cc_oidc_state'
const LINK_COOKIE = 'cc_oidc_link'

const linkBody = z.object({ password: z.string().min(1, 'Enter your password.').max(256) })

/**
 * Mounted at /api: single sign-on with the OIDC_* provider (docs/oidc.md). The browser is sent to
 * the provider and back; every outcome but a session lands on /login?sso=<code>, where the page
 * has a sentence for each code (no provider text is echoed).
 */
export function oidcRoutes(gw: Gateway) {
  const settings = gw.config.oidc
  const client = settings ? new OidcClient(settings, `${gw.config.publicBaseUrl}${COOKIE_PATH}/callback`) : null
  const clientIp = clientIpResolver(gw.config.trustProxy ?? [])
  const cookieOpts = { path: COOKIE_PATH, httpOnly: true, secure: gw.secureCookies, sameSite: 'Lax', maxAge: PENDING_TTL_MS / 1000 } as const
  const toLogin = (c: Context, code: string, detail?: string) =>
    c.redirect(`/login?sso=${code}${detail ? `&detail=${encodeURIComponent(detail)}` : ''}`, 302)
  const startSession = (c: Context, userId: string) => {
    // Exactly as a password sign-in starts one (routes/auth.ts): same cookie, same session row.
    const { token, session } = createSession(gw.db, userId, Date.now(), { userAgent: c.req.header('user-agent'), ip: clientIp(c) })
    setSessionCookie(c, token, session.expiresAt, gw.secureCookies)
  }
  const need = () => {
    if (!client) throw notFound('sso_off', 'Single sign-on is not set up on this server.')
    return client
  }

  return new Hono()
    // Public, like /auth/setup: whether the sign-in page shows the provider's button.
    .get('/auth/oidc', (c) => c.json(settings ? { enabled: true, name: settings.name, only: settings.only } : { enabled: false, name: null, only: false }))
    .get('/auth/oidc/start', async (c) => {
      const oidc = need()
      const login = await OidcClient.newLogin()
      const state = putPending(gw.db, 'login', login)
      if (!state) return toLogin(c, 'busy')
      let url: URL
      try {
        url = await oidc.authorizationUrl(state, login)
      } catch (err) {
        console.error(`OIDC discovery at ${settings!.issuer} failed:`, err instanceof Error ? err.message : err)
        takePending(gw.db, 'login', state)
        return toLogin(c, 'unreachable')
      }
      // The state also goes to this browser, so a callback only completes where it started
      // (someone else's callback link cannot sign a victim into the sender's account).
      setCookie(c, STATE_COOKIE, state, cookieOpts)
      return c.redirect(url.href, 302)
    })
    .get('/auth/oidc/callback', async (c) => {
      const oidc = need()
      const query = new URL(c.req.url).searchParams
      const state = query.get('state') ?? ''
      const mine = getCookie(c, STATE_COOKIE)
      deleteCookie(c, STATE_COOKIE, cookieOpts)
      // Single use: taken (deleted) before anything else, so a replayed callback finds nothing.
      const login = state && mine === state ? takePending(gw.db, 'login', state) : null
      if (!login) return toLogin(c, 'state')
      let claims
      try {
        claims = await oidc.finish(query, state, login)
      } catch (err) {
        if (err instanceof OidcProviderError) return toLogin(c, 'provider_error', /^[a-z_]{1,40}$/.test(err.code) ? err.code : undefined)
        if (err instanceof OidcRefused) {
          console.warn(`OIDC answer refused (${err.reason}): ${err.message}`)
          return toLogin(c, 'invalid_token', err.reason)
        }
        console.error('OIDC sign-in failed:', err instanceof Error ? err.message : err)
        return toLogin(c, 'unreachable')
      }
      const outcome = await resolveIdentity(gw, claims)
      if (outcome.kind === 'refused') return toLogin(c, outcome.code)
      if (outcome.kind === 'link') {
        const token = putPending(gw.db, 'link', outcome.link)
        if (!token) return toLogin(c, 'busy')
        setCookie(c, LINK_COOKIE, token, cookieOpts)
        return toLogin(c, 'link')
      }
      startSession(c, outcome.userId)
      return c.redirect('/', 302)
    })
    // The link page: whose account the provider identity is about to join.
    .get('/auth/oidc/link', (c) => {
      const oidc = need()
      const token = getCookie(c, LINK_COOKIE)
      const link = token ? peekPending(gw.db, 'link', token) : null
      if (!link) throw notFound('link_expired', `This link request expired; sign in with ${oidc.settings.name} again.`)
      return c.json({ email: link.email, provider: oidc.settings.name })
    })
    .post('/auth/oidc/link', validate('json', linkBody), async (c) => {
      const oidc = need()
      const token = getCookie(c, LINK_COOKIE)
      const link = token ? peekPending(gw.db, 'link', token) : null
      const { password } = c.req.valid('json')
      if (!token || !link) {
        await burnPasswordCheck(password)
        throw notFound('link_expired', `This link request expired; sign in with ${oidc.settings.name} again.`)
      }
      // The same throttle as password sign-in: a link request is a password guess too.
      const ip = clientIp(c)
      const verdict = await gw.loginThrottle.attempt(link.email, ip)
      if (!verdict.ok) {
        c.header('retry-after', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))))
        throw new ApiError(429, 'rate_limited', 'Too many wrong passwords; wait a few minutes and try again.')
      }
      const user = gw.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, link.userId)).get()
      if (!user || !(await verifyPassword(user.passwordHash, password))) {
        throw new ApiError(401, 'invalid_credentials', 'That password is wrong.')
      }
      await gw.loginThrottle.succeeded(link.email, ip)
      // Spent only now: a mistyped password leaves the request open for another try.
      if (!takePending(gw.db, 'link', token)) throw notFound('link_expired', `This link request expired; sign in with ${oidc.settings.name} again.`)
      linkIdentity(gw, link)
      deleteCookie(c, LINK_COOKIE, cookieOpts)
      startSession(c, link.userId)
      return c.json({ ok: true })
    })
}
