import { eq, sql } from 'drizzle-orm'
import { fileRefs, workspaces } from '@circlechat/db'
import { newId } from '@circlechat/model'
import { hashPassword } from '../auth/passwords.js'
import type { AuthContext, MemberRow, WorkspaceRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, forbidden } from '../errors.js'
import { insertAccount } from './accounts.js'
import { recordAudit } from './admin-audit.js'
import { insertConversation } from './conversation-store.js'
import { mirrorConversation, mirrorMember, mirrorWorkspace } from './doc-mirror.js'
import { readableFile } from './files.js'

export interface SignupInput {
  email: string
  password: string
  name: string
  handle: string
  workspaceName: string
}

/** Whether the first signup has happened: a fresh server offers to create the workspace. */
export function hasWorkspace(gw: Gateway): boolean {
  return gw.db.select({ id: workspaces.id }).from(workspaces).limit(1).get() !== undefined
}

/** "Acme Inc." → "acme-inc": the workspace's short name in URLs. */
export function workspaceHandle(name: string): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40)
  return slug || 'workspace'
}

/**
 * The first signup creates the installation's workspace, its first admin and #general. Every
 * later person joins by invite, so an exposed server cannot be claimed by strangers.
 */
export async function createWorkspace(gw: Gateway, input: SignupInput): Promise<{ user: { id: string; email: string }; member: MemberRow; workspace: WorkspaceRow }> {
  const passwordHash = await hashPassword(input.password)
  const now = Date.now()
  // Synchronous transaction: two concurrent first signups cannot both see an empty table.
  const result = gw.db.transaction((tx) => {
    const count = tx.select({ n: sql<number>`count(*)` }).from(workspaces).get()?.n ?? 0
    if (count > 0) throw forbidden('invite_required', 'This server already has a workspace; ask an admin for an invite link.')
    const workspace: WorkspaceRow = { id: newId('workspace'), name: input.workspaceName, handle: workspaceHandle(input.workspaceName), icon: null, createdAt: now }
    tx.insert(workspaces).values(workspace).run()
    const { user, member } = insertAccount(tx, { ...input, passwordHash, workspaceId: workspace.id, role: 'admin' }, now)
    const general = insertConversation(tx, {
      workspaceId: workspace.id, kind: 'channel', name: 'general', topic: 'Everyone, everything.', isPrivate: false,
      createdBy: member.id, memberIds: [member.id], dmKey: null
    }, now)
    return { user, member, workspace, generalId: general.id }
  })
  await mirrorWorkspace(gw, result.workspace)
  await mirrorMember(gw, result.member)
  await mirrorConversation(gw, result.generalId)
  return { user: result.user, member: result.member, workspace: result.workspace }
}

/** Icons: raster images only (an SVG can carry script), as sniffed from the bytes at upload. */
const ICON_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/**
 * Renames the workspace or sets its icon (an image the admin uploaded through /api/uploads; null
 * removes it). The icon's file gets a reference `icon:<workspace>` that lets every member read it;
 * the old icon's is marked deleted, so the file collector may remove it. Clients see the change
 * live through the `dir:` doc.
 */
export async function updateWorkspace(gw: Gateway, auth: AuthContext, input: { name?: string; icon?: string | null }): Promise<WorkspaceRow> {
  const ws = gw.db.select().from(workspaces).where(eq(workspaces.id, auth.workspace.id)).get()!
  const next: WorkspaceRow = { ...ws, ...(input.name !== undefined ? { name: input.name } : {}), ...(input.icon !== undefined ? { icon: input.icon } : {}) }
  if (input.icon) {
    const file = readableFile(gw, auth, input.icon)
    if (!ICON_TYPES.has(file.contentType)) throw badRequest('icon_not_image', 'The icon must be a PNG, JPEG, GIF or WebP image.')
  }
  const ref = `icon:${ws.id}`
  gw.db.transaction((tx) => {
    tx.update(workspaces).set({ name: next.name, icon: next.icon }).where(eq(workspaces.id, ws.id)).run()
    if (input.icon !== undefined && input.icon !== ws.icon) {
      tx.update(fileRefs).set({ deleted: true }).where(eq(fileRefs.ref, ref)).run()
      if (input.icon) {
        tx.insert(fileRefs).values({ fileKey: input.icon, ref, scope: ws.id, deleted: false, createdAt: Date.now() })
          .onConflictDoUpdate({ target: [fileRefs.fileKey, fileRefs.ref], set: { deleted: false } }).run()
      }
    }
    const changes: Record<string, unknown> = {}
    if (next.name !== ws.name) changes.name = { from: ws.name, to: next.name }
    if (next.icon !== ws.icon) changes.icon = { from: ws.icon, to: next.icon }
    if (Object.keys(changes).length) recordAudit(tx, auth, { action: 'workspace.update', targetKind: 'workspace', targetId: ws.id, detail: changes })
  })
  await mirrorWorkspace(gw, next)
  return next
}
