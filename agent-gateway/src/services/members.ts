import { eq } from 'drizzle-orm'
import { members, sessions } from '@circlechat/db'
import type { AuthContext, MemberRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, notFound } from '../errors.js'
import { mirrorMember } from './doc-mirror.js'

/**
 * Deactivates a person or an agent (an admin's call): they can no longer sign in or use a bot
 * token, their sessions are deleted, and every socket they hold — sync docs and /agent-socket —
 * closes now. The member row stays (their messages keep an author); the directory marks them.
 */
export async function deactivateMember(gw: Gateway, auth: AuthContext, memberId: string): Promise<MemberRow> {
  const target = gw.db.select().from(members).where(eq(members.id, memberId)).get()
  if (!target || target.workspaceId !== auth.workspace.id) throw notFound('member_not_found', 'No such member in this workspace.')
  if (target.id === auth.member.id) throw badRequest('cannot_deactivate_self', 'You cannot deactivate yourself; ask another admin.')
  if (target.deactivated) return target
  gw.db.transaction((tx) => {
    tx.update(members).set({ deactivated: true }).where(eq(members.id, target.id)).run()
    if (target.userId) tx.delete(sessions).where(eq(sessions.userId, target.userId)).run()
  })
  gw.revocations.member(target.id)
  const updated = { ...target, deactivated: true }
  await mirrorMember(gw, updated)
  return updated
}
