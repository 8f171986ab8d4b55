import { Hono } from 'hono'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { listFollowed, setFollowing } from '../services/thread-follows.js'

/** Mounted at /api: the threads I follow, and following or unfollowing one by its root message. */
export function threadRoutes(gw: Gateway) {
  return new Hono()
    .use('/threads', requireAuth())
    .use('/threads/*', requireAuth())
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
