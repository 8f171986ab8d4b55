import { sql } from 'drizzle-orm'
import { workspaces } from '@circlechat/db'
import { newId } from '@circlechat/model'
import { hashPassword } from '../auth/passwords.js'
import type { MemberRow, WorkspaceRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { forbidden } from '../errors.js'
import { insertAccount } from './accounts.js'
import { insertConversation } from './conversation-store.js'
import { mirrorConversation, mirrorMember, mirrorWorkspace } from './doc-mirror.js'

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
    const workspace: WorkspaceRow = { id: newId('workspace'), name: input.workspaceName, handle: workspaceHandle(input.workspaceName), createdAt: now }
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
