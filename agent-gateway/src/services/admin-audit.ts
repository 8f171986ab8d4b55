import { and, desc, eq, lt } from 'drizzle-orm'
import { adminAudit } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import type { Actor } from './conversations.js'
import type { Tx } from './accounts.js'

/** What an admin did; `detail` holds the before/after an auditor needs (never a secret). */
export interface AuditEntry {
  action: string
  targetKind: 'workspace' | 'member' | 'invite'
  targetId: string
  detail?: Record<string, unknown>
}

/** Appends one entry; pass the transaction that made the change, so both land or neither. */
export function recordAudit(tx: Tx, actor: Actor, e: AuditEntry, now = Date.now()): void {
  tx.insert(adminAudit).values({
    workspaceId: actor.workspace.id, actorId: actor.member.id, action: e.action,
    targetKind: e.targetKind, targetId: e.targetId, detail: e.detail ?? {}, createdAt: now
  }).run()
}

/** A page of the workspace's audit log, newest first; `before` is the last page's `next`. */
export function listAudit(gw: Gateway, actor: Actor, page: { before?: number; limit: number }) {
  const rows = gw.db
    .select()
    .from(adminAudit)
    .where(and(eq(adminAudit.workspaceId, actor.workspace.id), page.before !== undefined ? lt(adminAudit.id, page.before) : undefined))
    .orderBy(desc(adminAudit.id))
    .limit(page.limit + 1)
    .all()
  const more = rows.length > page.limit
  const entries = rows.slice(0, page.limit).map((r) => ({
    id: r.id, actorId: r.actorId, action: r.action, targetKind: r.targetKind, targetId: r.targetId, detail: r.detail, at: r.createdAt
  }))
  return { entries, next: more ? entries[entries.length - 1]!.id : null }
}
