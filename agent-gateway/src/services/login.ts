import { and, eq } from 'drizzle-orm'
import { members, users, workspaces } from '@circlechat/db'
import { burnPasswordCheck, verifyPassword } from '../auth/passwords.js'
import type { MemberRow, WorkspaceRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'

const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'Email or password is wrong.')

/**
 * Checks email and password. Unknown emails cost the same time as wrong passwords, and both get
 * the same answer, so login cannot be used to learn who has an account.
 */
export async function checkCredentials(gw: Gateway, email: string, password: string): Promise<{ user: { id: string; email: string }; member: MemberRow; workspace: WorkspaceRow }> {
  const row = gw.db
    .select({ user: users, member: members, workspace: workspaces })
    .from(users)
    .innerJoin(members, and(eq(members.userId, users.id), eq(members.deactivated, false)))
    .innerJoin(workspaces, eq(workspaces.id, members.workspaceId))
    .where(eq(users.email, email))
    .get()
  if (!row) {
    await burnPasswordCheck(password)
    throw invalidCredentials()
  }
  if (!(await verifyPassword(row.user.passwordHash, password))) throw invalidCredentials()
  return { user: { id: row.user.id, email: row.user.email }, member: row.member, workspace: row.workspace }
}
