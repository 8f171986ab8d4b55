import { eq } from 'drizzle-orm'
import { approvals, type Db } from '@circlechat/db'

export type ApprovalRow = typeof approvals.$inferSelect

/** Only workspace admins and the requesting agent's manager decide an approval. */
export function canDecide(db: Db, approval: ApprovalRow, decider: { id: string; role: string; workspaceId: string }): boolean {
  if (decider.workspaceId !== approval.workspaceId) return false
  if (decider.role === 'admin') return true
  const manager = db.$client.prepare('SELECT m.reports_to FROM agents a JOIN members m ON m.id = a.member_id WHERE a.id = ?').pluck().get(approval.agentId)
  return manager === decider.id
}

export function approvalById(db: Db, id: string): ApprovalRow | undefined {
  return db.select().from(approvals).where(eq(approvals.id, id)).get()
}
