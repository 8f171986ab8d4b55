import { Hono } from 'hono'
import { z } from 'zod'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { listFollowed, setFollowing } from '../services/thread-follows.js'
import { listActivity } from '../services/activity.js'
import { validate } from '../middleware/validate.js'

/** `before`: the `nextBefore` of the previous page (a time in ms); absent for the newest page. */
const activityQuery = z.object({ before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() })

/**
 * Mounted at /api: the threads I follow, following or unfollowing one by its root message, and my
 * activity (mentions of me and reactions to my messages).
 */
export function threadRoutes(gw: Gateway) {
  return new Hono()
    .use('/threads', requireAuth())
    .use('/threads/*', requireAuth())
    .use('/activity', requireAuth())
    .get('/activity', validate('query', activityQuery), async (c) => c.json(await listActivity(gw, authOf(c), c.req.valid('query').before)))
    .get('/threads', (c) => c.json(listFollowed(gw, authOf(c))))
    .post('/threads/:id/follow', async (c) => {
      await setFollowing(gw, authOf(c), c.req.param('id'), true)
      return c.json({ following: true })
    })
    .delete('/threads/:id/follow', async (c) => {
      await setFollowing(gw, authOf(c), c.req.param('id'), false)
      return c.json({ following: false })
    })
}
