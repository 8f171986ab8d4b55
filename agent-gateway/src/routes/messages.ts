import { Hono } from 'hono'
import { z } from 'zod'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { editMessageBody, getMessage, listMessages, postMessage, removeMessage } from '../services/messages.js'
import { setPinned } from '../services/pins.js'
import { bodyMd } from './schemas.js'
import { badRequest } from '../errors.js'
import { IDEMPOTENCY_KEY_PATTERN } from '../services/idempotency.js'
import { attachmentsInputSchema } from '../services/files.js'

const listQuery = z.object({
  before: z.coerce.number().int().nonnegative().optional(),
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  parent_id: z.string().min(1).max(64).optional()
})
const postBody = z.object({ bodyMd, parentId: z.string().min(1).max(64).optional(), attachments: attachmentsInputSchema.optional() })
const editBody = z.object({ bodyMd })

/**
 * Mounted at /api: conversation history and message writes. Auth is attached per path, not with
 * a bare `.use()`: that would cover every /api route, signup included.
 */
export function messageRoutes(gw: Gateway) {
  return new Hono()
    .use('/conversations/:id/messages', requireAuth())
    .use('/messages/*', requireAuth())
    .get('/conversations/:id/messages', validate('query', listQuery), (c) => {
      const q = c.req.valid('query')
      return c.json(listMessages(gw, authOf(c), c.req.param('id'), { before: q.before, cursor: q.cursor, limit: q.limit, parentId: q.parent_id }))
    })
    .post('/conversations/:id/messages', validate('json', postBody), async (c) => {
      const key = c.req.header('idempotency-key')
      if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) throw badRequest('invalid_input', 'Idempotency-Key: 1–200 visible ASCII characters, e.g. a UUID.')
      const { message, replayed } = await postMessage(gw, authOf(c), c.req.param('id'), c.req.valid('json'), { idempotencyKey: key })
      return c.json({ message }, replayed ? 200 : 201)
    })
    .get('/messages/:id', (c) => c.json(getMessage(gw, authOf(c), c.req.param('id'))))
    .patch('/messages/:id', validate('json', editBody), async (c) =>
      c.json({ message: await editMessageBody(gw, authOf(c), c.req.param('id'), c.req.valid('json').bodyMd) })
    )
    .delete('/messages/:id', async (c) => {
      await removeMessage(gw, authOf(c), c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/messages/:id/pin', async (c) => {
      await setPinned(gw, authOf(c), c.req.param('id'), true)
      return c.json({ ok: true })
    })
    .delete('/messages/:id/pin', async (c) => {
      await setPinned(gw, authOf(c), c.req.param('id'), false)
      return c.json({ ok: true })
    })
}
