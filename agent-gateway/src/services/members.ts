import { and, eq } from 'drizzle-orm'
import { members, sessions } from '@circlechat/db'
import type { AuthContext, MemberRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, conflict, notFound } from '../errors.js'
import { recordAudit } from './admin-audit.js'
import type { Tx } from './accounts.js'
import { mirrorMember } from './doc-mirror.js'

export type Role = MemberRow['role']

function targetOf(gw: Gateway, auth: AuthContext, memberId: string): MemberRow {
  const target = gw.db.select().from(members).where(eq(members.id, memberId)).get()
  if (!target || target.workspaceId !== auth.workspace.id) throw notFound('member_not_found', 'No such member in this workspace.')
  return target
}

/**
 * Deactivates a person or an agent (an admin's call): they can no longer sign in or use a bot
 * token, their sessions are deleted, and every socket they hold — sync docs and /agent-socket —
 * closes now. The member row stays (their messages keep an author); the directory marks them.
 */
export async function deactivateMember(gw: Gateway, auth: AuthContext, memberId: string): Promise<MemberRow> {
  const target = targetOf(gw, auth, memberId)
  if (target.id === auth.member.id) throw badRequest('cannot_deactivate_self', 'You cannot deactivate yourself; ask another admin.')
  if (target.deactivated) return target
  gw.db.transaction((tx) => {
    tx.update(members).set({ deactivated: true }).where(eq(members.id, target.id)).run()
    if (target.userId) tx.delete(sessions).where(eq(sessions.userId, target.userId)).run()
    recordAudit(tx, auth, { action: 'member.deactivate', targetKind: 'member', targetId: target.id, detail: { handle: target.handle } })
  })
  gw.revocations.member(target.id)
  const updated = { ...target, deactivated: true }
  await mirrorMember(gw, updated)
  return updated
}

/**
 * Lets a deactivated member back in: a person signs in again with their password (their old
 * sessions stay deleted); an agent's bot token is accepted again. Their channels were kept.
 */
export async function reactivateMember(gw: Gateway, auth: AuthContext, memberId: string): Promise<MemberRow> {
  const target = targetOf(gw, auth, memberId)
  if (!target.deactivated) return target
  gw.db.transaction((tx) => {
    tx.update(members).set({ deactivated: false }).where(eq(members.id, target.id)).run()
    recordAudit(tx, auth, { action: 'member.reactivate', targetKind: 'member', targetId: target.id, detail: { handle: target.handle } })
  })
  const updated = { ...target, deactivated: false }
  await mirrorMember(gw, updated)
  return updated
}

/**
 * Changes a member's role. Not one's own (an admin cannot lock the workspace out of its last
 * admin by accident); agents are members or guests, never admins. Their open sync sockets
 * reconnect under the new role at once (a new guest loses the workspace board).
 */
export async function setRole(gw: Gateway, auth: AuthContext, memberId: string, role: Role): Promise<MemberRow> {
  const target = targetOf(gw, auth, memberId)
  if (target.id === auth.member.id) throw badRequest('cannot_change_own_role', 'You cannot change your own role; ask another admin.')
  if (target.kind === 'agent' && role === 'admin') throw badRequest('agent_not_admin', 'An agent can be a member or a guest, not an admin.')
  if (target.role === role) return target
  gw.db.transaction((tx) => {
    tx.update(members).set({ role }).where(eq(members.id, target.id)).run()
    recordAudit(tx, auth, { action: 'member.role', targetKind: 'member', targetId: target.id, detail: { handle: target.handle, from: target.role, to: role } })
  })
  gw.revocations.role(target.id)
  const updated = { ...target, role }
  await mirrorMember(gw, updated)
  return updated
}

/** Refuses `memberId` reporting to `reportsTo` if `reportsTo`'s chain of managers leads back to it. */
export function assertNoOrgLoop(tx: Tx, workspaceId: string, memberId: string, reportsTo: string): void {
  const up = new Map(tx.select({ id: members.id, reportsTo: members.reportsTo }).from(members).where(eq(members.workspaceId, workspaceId)).all().map((r) => [r.id, r.reportsTo]))
  const seen = new Set<string>()
  for (let at: string | null | undefined = reportsTo; at; at = up.get(at)) {
    if (at === memberId) throw conflict('org_cycle', 'That would make a loop: the new manager already reports to this member, directly or not.')
    if (seen.has(at)) break // an old loop elsewhere (from before this check) does not block this edit
    seen.add(at)
  }
}

/**
 * The org chart: whom a person or an agent reports to (null: nobody). Agents' packets carry it
 * (manager, peers, reports). A chain that would loop back to the member is refused.
 */
export async function setReportsTo(gw: Gateway, auth: AuthContext, memberId: string, reportsTo: string | null): Promise<MemberRow> {
  const target = targetOf(gw, auth, memberId)
  if (reportsTo !== null) {
    if (reportsTo === target.id) throw badRequest('org_cycle', 'Nobody can report to themselves.')
    const manager = gw.db.select().from(members).where(and(eq(members.id, reportsTo), eq(members.workspaceId, auth.workspace.id))).get()
    if (!manager || manager.deactivated) throw badRequest('unknown_member', 'The manager must be an active member of this workspace.')
  }
  if (target.reportsTo === reportsTo) return target
  gw.db.transaction((tx) => {
    // Read the chain inside the transaction, so two edits cannot each pass and together loop.
    if (reportsTo !== null) assertNoOrgLoop(tx, auth.workspace.id, target.id, reportsTo)
    tx.update(members).set({ reportsTo }).where(eq(members.id, target.id)).run()
    recordAudit(tx, auth, { action: 'member.reports_to', targetKind: 'member', targetId: target.id, detail: { handle: target.handle, from: target.reportsTo, to: reportsTo } })
  })
  const updated = { ...target, reportsTo }
  await mirrorMember(gw, updated)
  return updated
}
