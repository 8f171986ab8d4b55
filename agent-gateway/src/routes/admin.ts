import { Hono } from 'hono'
import { z } from 'zod'
import type { Gateway } from '../deps.js'
import { authOf } from '../middleware/require-auth.js'
import { requireAdmin } from '../middleware/require-admin.js'
import { validate } from '../middleware/validate.js'
import { listAudit } from '../services/admin-audit.js'
import { createInviteLink, listInvites, revokeInvite } from '../services/invites.js'
import { workspaceShape } from '../services/shapes.js'
import { updateWorkspace } from '../services/workspace.js'

const workspaceBody = z.object({
  name: z.string().trim().min(1, 'Name the workspace.').max(80).optional(),
  /** A file key from POST /api/uploads (an image), or null to remove the icon. */
  icon: z.string().min(1).max(64).nullable().optional()
}).refine((b) => b.name !== undefined || b.icon !== undefined, 'Send name or icon.')

const linkBody = z.object({
  role: z.enum(['member', 'guest']).default('member'),
  expiresInHours: z.number().int().min(1, 'A link lasts at least an hour.').max(24 * 30, 'A link lasts at most 30 days.').default(24 * 7),
  channelIds: z.array(z.string().min(1).max(64)).max(50).default([])
})

const auditQuery = z.object({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50)
})

/** Mounted at /api/admin: workspace settings, invite links and the audit log; admins only, per request. */
export function adminRoutes(gw: Gateway) {
  return new Hono()
    .use(requireAdmin())
    .patch('/workspace', validate('json', workspaceBody), async (c) => c.json({ workspace: workspaceShape(await updateWorkspace(gw, authOf(c), c.req.valid('json'))) }))
    .get('/invites', (c) => c.json({ invites: listInvites(gw, authOf(c)) }))
    .post('/invites', validate('json', linkBody), (c) => c.json(createInviteLink(gw, authOf(c), c.req.valid('json')), 201))
    .post('/invites/:id/revoke', (c) => c.json({ invite: revokeInvite(gw, authOf(c), c.req.param('id')) }))
    .get('/audit', validate('query', auditQuery), (c) => c.json(listAudit(gw, authOf(c), c.req.valid('query'))))
}
