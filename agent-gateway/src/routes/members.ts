import { and, asc, eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { z } from 'zod'
import { members } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import { badRequest } from '../errors.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { requireAdmin } from '../middleware/require-admin.js'
import { validate } from '../middleware/validate.js'
import { deactivateMember, reactivateMember, setReportsTo, setRole } from '../services/members.js'
import { memberShape } from '../services/shapes.js'
import { memberId } from './schemas.js'

const patchBody = z.object({
  role: z.enum(['admin', 'member', 'guest']).optional(),
  reportsTo: memberId.nullable().optional()
}).refine((b) => b.role !== undefined || b.reportsTo !== undefined, 'Send role or reportsTo.')

/**
 * Mounted at /api/members: the workspace's people and agents (deactivated ones left out, except
 * for admins asking with `?all=1`, who also see `deactivated`). Changing a member is for admins,
 * checked on each request.
 */
export function memberRoutes(gw: Gateway) {
  return new Hono().use(requireAuth()).get('/', (c) => {
    const auth = authOf(c)
    const all = c.req.query('all') === '1'
    if (all && auth.member.role !== 'admin') throw badRequest('admin_only', 'Only a workspace admin can list deactivated members.')
    const rows = gw.db
      .select()
      .from(members)
      .where(and(eq(members.workspaceId, auth.workspace.id), all ? undefined : eq(members.deactivated, false)))
      .orderBy(asc(members.handle))
      .all()
    return c.json({ members: rows.map((m) => (all ? { ...memberShape(m), deactivated: m.deactivated } : memberShape(m))) })
  })
    .patch('/:id', requireAdmin(), validate('json', patchBody), async (c) => {
      const auth = authOf(c)
      const body = c.req.valid('json')
      let m = body.role !== undefined ? await setRole(gw, auth, c.req.param('id'), body.role) : undefined
      if (body.reportsTo !== undefined) m = await setReportsTo(gw, auth, c.req.param('id'), body.reportsTo)
      return c.json({ member: { ...memberShape(m!), deactivated: m!.deactivated } })
    })
    .post('/:id/deactivate', requireAdmin(), async (c) => c.json({ member: memberShape(await deactivateMember(gw, authOf(c), c.req.param('id'))) }))
    .post('/:id/reactivate', requireAdmin(), async (c) => c.json({ member: memberShape(await reactivateMember(gw, authOf(c), c.req.param('id'))) }))
}
