import { and, asc, eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { members } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { requireAdmin } from '../middleware/require-admin.js'
import { deactivateMember } from '../services/members.js'
import { memberShape } from '../services/shapes.js'

/** Mounted at /api/members: the workspace's people and agents (deactivated ones left out). */
export function memberRoutes(gw: Gateway) {
  return new Hono().use(requireAuth()).get('/', (c) => {
    const auth = authOf(c)
    const rows = gw.db
      .select()
      .from(members)
      .where(and(eq(members.workspaceId, auth.workspace.id), eq(members.deactivated, false)))
      .orderBy(asc(members.handle))
      .all()
    return c.json({ members: rows.map(memberShape) })
  })
    .post('/:id/deactivate', requireAdmin(), async (c) => c.json({ member: memberShape(await deactivateMember(gw, authOf(c), c.req.param('id'))) }))
}
