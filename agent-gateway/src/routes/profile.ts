import { Hono } from 'hono'
import { z } from 'zod'
import { clientIpResolver } from '../auth/client-ip.js'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { changePassword, profileOf, updateProfile } from '../services/profile.js'
import { endOtherSessions, endSession, listSessions, personOf } from '../services/user-sessions.js'
import { handle, password, personName } from './schemas.js'

const patchBody = z.object({
  name: personName.optional(),
  handle: handle.optional(),
  title: z.string().trim().max(80, 'A title is at most 80 characters.').nullable().optional(),
  avatarKey: z.string().min(1).max(64).nullable().optional(),
  mentionDigest: z.boolean().optional()
}).strict()
const passwordBody = z.object({ currentPassword: z.string().min(1, 'Enter your current password.').max(256), newPassword: password })

/** Mounted at /api/profile: the caller's own name, handle, avatar, title, password and sessions. */
export function profileRoutes(gw: Gateway) {
  const clientIp = clientIpResolver(gw.config.trustProxy ?? [])
  return new Hono()
    .use(requireAuth())
    .get('/', (c) => c.json(profileOf(gw, authOf(c))))
    .patch('/', validate('json', patchBody), async (c) => c.json(await updateProfile(gw, authOf(c), c.req.valid('json'))))
    .post('/password', validate('json', passwordBody), async (c) => {
      const auth = authOf(c)
      const { email } = personOf(auth)
      // The same throttle as sign-in: a stolen session must not be a way to guess the password.
      const ip = clientIp(c)
      const verdict = await gw.loginThrottle.attempt(email, ip)
      if (!verdict.ok) {
        c.header('retry-after', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))))
        throw new ApiError(429, 'rate_limited', 'Too many wrong passwords; wait a while and try again.')
      }
      const { currentPassword, newPassword } = c.req.valid('json')
      const result = await changePassword(gw, auth, currentPassword, newPassword)
      await gw.loginThrottle.succeeded(email, ip)
      return c.json(result)
    })
    .get('/sessions', (c) => c.json({ sessions: listSessions(gw, authOf(c)) }))
    .delete('/sessions/:id', (c) => {
      endSession(gw, authOf(c), c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/sessions/end-others', (c) => c.json({ ended: endOtherSessions(gw, authOf(c)) }))
}
