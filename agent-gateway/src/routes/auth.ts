import { Hono, type Context } from 'hono'
import { clientIpResolver } from '../auth/client-ip.js'
import { z } from 'zod'
import { sessionCredential, type MemberRow, type WorkspaceRow } from '../auth/principal.js'
import { clearSessionCookie, createSession, invalidateSession, setSessionCookie } from '../auth/sessions.js'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'
import { requireAdmin } from '../middleware/require-admin.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { acceptInvite, createInvite, lookupInvite } from '../services/invites.js'
import { mailInvite } from '../services/invite-mail.js'
import { completePasswordReset, lookupPasswordReset, requestPasswordReset } from '../services/password-reset.js'
import { checkCredentials } from '../services/login.js'
import { assertPasswordLogin } from '../oidc/policy.js'
import { memberShape, userShape, workspaceShape } from '../services/shapes.js'
import { createWorkspace, hasWorkspace } from '../services/workspace.js'
import { email, handle, password, personName } from './schemas.js'

const signupBody = z.object({ email, password, name: personName, handle, workspaceName: z.string().trim().min(1, 'Name the workspace.').max(80) })
const loginBody = z.object({ email, password: z.string().min(1, 'Enter your password.').max(256) })
const inviteBody = z.object({
  email,
  role: z.enum(['admin', 'member', 'guest']).default('member'),
  // A guest's channels: the only ones they join and see.
  channelIds: z.array(z.string().min(1).max(64)).max(50).optional()
})
const acceptBody = z.object({ token: z.string().min(1).max(128), email, name: personName, handle, password })
const forgotBody = z.object({ email })
const resetBody = z.object({ token: z.string().min(1).max(128), password })

type Account = { user: { id: string; email: string }; member: MemberRow; workspace: WorkspaceRow }

const accountJson = (a: Account) => ({ user: userShape(a.user), member: memberShape(a.member), workspace: workspaceShape(a.workspace) })

const waitText = (s: number) => (s < 120 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`)

/** Mounted at /api: accounts, sessions and invites. */
export function authRoutes(gw: Gateway) {
  // The socket's peer, or X-Forwarded-For from a trusted proxy only (TRUST_PROXY).
  const clientIp = clientIpResolver(gw.config.trustProxy ?? [])
  const startSession = (c: Context, userId: string) => {
    const { token, session } = createSession(gw.db, userId, Date.now(), { userAgent: c.req.header('user-agent'), ip: clientIp(c) })
    setSessionCookie(c, token, session.expiresAt, gw.secureCookies)
  }

  // Reset mails: 3 an hour per address (a mailbox cannot be flooded), 20 an hour per IP (nor
  // every mailbox from one place). Counted whether or not the address has an account, so the
  // 429 says nothing about who does.
  const resetsPerAddress = gw.limits.windowLimit('reset-address', { limit: 3, windowMs: 60 * 60_000 })
  const resetsPerIp = gw.limits.windowLimit('reset-ip', { limit: 20, windowMs: 60 * 60_000 })

  return new Hono()
    .post('/auth/forgot', validate('json', forgotBody), async (c) => {
      const { email } = c.req.valid('json')
      // Under OIDC_ONLY a reset would be a password way in around the provider.
      assertPasswordLogin(gw, email)
      for (const verdict of [await resetsPerIp.take(clientIp(c)), await resetsPerAddress.take(email)]) {
        if (verdict.ok) continue
        const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
        c.header('retry-after', String(seconds))
        throw new ApiError(429, 'rate_limited', `Too many reset requests; try again in ${waitText(seconds)}.`)
      }
      requestPasswordReset(gw, email)
      return c.json({ ok: true, message: 'If an account uses this address, a link to reset its password is on its way.' })
    })
    .get('/auth/reset/:token', (c) => c.json(lookupPasswordReset(gw, c.req.param('token'))))
    .post('/auth/reset', validate('json', resetBody), async (c) => {
      const { token, password } = c.req.valid('json')
      assertPasswordLogin(gw, lookupPasswordReset(gw, token).email)
      const { userId } = await completePasswordReset(gw, token, password)
      // Every old session ended with the reset; this browser starts a new one.
      startSession(c, userId)
      return c.json({ ok: true })
    })
    .post('/auth/signup', validate('json', signupBody), async (c) => {
      const account = await createWorkspace(gw, c.req.valid('json'))
      startSession(c, account.user.id)
      return c.json(accountJson(account), 201)
    })
    .post('/auth/login', validate('json', loginBody), async (c) => {
      const { email, password } = c.req.valid('json')
      assertPasswordLogin(gw, email)
      const ip = clientIp(c)
      const verdict = await gw.loginThrottle.attempt(email, ip)
      if (!verdict.ok) {
        const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
        c.header('retry-after', String(seconds))
        throw new ApiError(429, 'rate_limited', verdict.why === 'ip'
          ? `Too many failed sign-ins from your network; try again in ${waitText(seconds)}.`
          : `Too many failed sign-ins for this account; try again in ${waitText(seconds)}.`)
      }
      const account = await checkCredentials(gw, email, password)
      await gw.loginThrottle.succeeded(email, ip)
      startSession(c, account.user.id)
      return c.json(accountJson(account))
    })
    .post('/auth/logout', (c) => {
      const auth = c.get('auth')
      if (auth?.session) {
        invalidateSession(gw.db, auth.session.id)
        // Its sync sockets were authorised at upgrade: close them now, not at their next write.
        gw.revocations.credential(sessionCredential(auth.session.id))
      }
      clearSessionCookie(c, gw.secureCookies)
      return c.json({ ok: true })
    })
    // Public: says only whether this server is set up, so the app opens on the right page.
    .get('/auth/setup', (c) => c.json({ hasWorkspace: hasWorkspace(gw) }))
    .get('/me', requireAuth(), (c) => {
      const auth = authOf(c)
      return c.json({ user: auth.user, member: memberShape(auth.member), workspace: workspaceShape(auth.workspace) })
    })
    .post('/auth/invite', requireAdmin(), validate('json', inviteBody), async (c) => {
      const invite = createInvite(gw, authOf(c), c.req.valid('json'))
      return c.json({ ...invite, mailed: await mailInvite(gw, authOf(c), c.req.valid('json').email, invite.url) })
    })
    .get('/auth/invite/:token', (c) => c.json(lookupInvite(gw, c.req.param('token'))))
    .post('/auth/accept-invite', validate('json', acceptBody), async (c) => {
      assertPasswordLogin(gw, c.req.valid('json').email)
      const account = await acceptInvite(gw, c.req.valid('json'))
      startSession(c, account.user.id)
      return c.json(accountJson(account), 201)
    })
}
