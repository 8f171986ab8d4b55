import { Hono } from 'hono'
import { z } from 'zod'
import { isValidEmoji } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { toggleMyReaction } from '../services/reactions.js'
import { search, searchTasks } from '../services/search.js'
import { markConversationRead } from '../services/unread.js'

const reactionBody = z.object({
  emoji: z.string().refine(isValidEmoji, 'An emoji is 1–32 characters with no spaces or "|".')
})
const searchQuery = z.object({
  q: z.string().max(500, 'Search for at most 500 characters.'),
  conversationId: z.string().min(1).max(64).optional(),
  from: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20)
})

/**
 * Mounted at /api: the "chat, complete" endpoints — read markers, reactions, search. Auth is
 * attached per path, as in messages.ts: a bare `.use()` would cover every /api route.
 */
export function chatRoutes(gw: Gateway) {
  return new Hono()
    .use('/conversations/:id/read', requireAuth())
    .use('/messages/:id/reactions', requireAuth())
    .use('/search', requireAuth())
    .post('/conversations/:id/read', async (c) => c.json({ unread: await markConversationRead(gw, authOf(c), c.req.param('id')) }))
    .post('/messages/:id/reactions', validate('json', reactionBody), async (c) =>
      c.json({ message: await toggleMyReaction(gw, authOf(c), c.req.param('id'), c.req.valid('json').emoji) })
    )
    .get('/search', validate('query', searchQuery), async (c) => {
      const input = c.req.valid('query')
      return c.json({ results: await search(gw, authOf(c), input), tasks: await searchTasks(gw, authOf(c), input) })
    })
}
