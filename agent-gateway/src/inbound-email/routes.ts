import { Hono } from 'hono'
import { z } from 'zod'
import type { TokenVault } from '../agents/token-vault.js'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { disableInboundAddress, enableInboundAddress, getInboundAddress } from './addresses.js'

const enableBody = z.object({ rotate: z.boolean().default(false) }).strict()

/** Mounted at /api/conversations: a channel's inbound email address (docs/api.md). */
export function inboundEmailRoutes(gw: Gateway, vault: TokenVault) {
  return new Hono()
    .use(requireAuth())
    .get('/:id/inbound-email', (c) => c.json({ inboundEmail: getInboundAddress(gw, vault, authOf(c), c.req.param('id')) }))
    .post('/:id/inbound-email', validate('json', enableBody), async (c) =>
      c.json({ inboundEmail: await enableInboundAddress(gw, vault, authOf(c), c.req.param('id'), c.req.valid('json')) })
    )
    .delete('/:id/inbound-email', (c) => c.json({ inboundEmail: disableInboundAddress(gw, vault, authOf(c), c.req.param('id')) }))
}
