import { and, eq, isNull } from 'drizzle-orm'
import { invites, workspaces } from '@circlechat/db'
import { hashPassword } from '../auth/passwords.js'
import type { AuthContext, MemberRow, WorkspaceRow } from '../auth/principal.js'
import { hashSecret, randomSecret } from '../auth/tokens.js'
import type { Gateway } from '../deps.js'
import { forbidden, notFound } from '../errors.js'
import { insertAccount, type Tx } from './accounts.js'
import { joinPublicChannels } from './conversations.js'
import { mirrorMember } from './doc-mirror.js'

/** A week: long enough to reach someone on holiday, short enough that a leaked link goes stale. */
const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000

const invalid = () => notFound('invite_invalid', 'This invite link is invalid, expired or already used; ask an admin for a new one.')

export function createInvite(gw: Gateway, auth: AuthContext, input: { email: string; role: 'admin' | 'member' }): { url: string; token: string } {
  const token = randomSecret()
  gw.db.insert(invites).values({
    tokenHash: hashSecret(token), workspaceId: auth.workspace.id, email: input.email, role: input.role,
    createdBy: auth.member.id, expiresAt: Date.now() + INVITE_TTL_MS
  }).run()
  const url = `${gw.config.publicBaseUrl}/invite/${token}`
  // No mail server by default: the admin copies the link from here or from the response.
  console.log(`invite for ${input.email} (${input.role}): ${url}`)
  return { url, token }
}

function usableInvite(tx: Tx, token: string, now = Date.now()) {
  const row = tx
    .select({ invite: invites, workspace: workspaces })
    .from(invites)
    .innerJoin(workspaces, eq(workspaces.id, invites.workspaceId))
    .where(eq(invites.tokenHash, hashSecret(token)))
    .get()
  if (!row || row.invite.usedAt !== null || row.invite.expiresAt <= now) return null
  return row
}

export function lookupInvite(gw: Gateway, token: string): { workspace: { name: string; handle: string }; email: string } {
  const row = usableInvite(gw.db, token)
  if (!row) throw invalid()
  return { workspace: { name: row.workspace.name, handle: row.workspace.handle }, email: row.invite.email }
}

export interface AcceptInput {
  token: string
  email: string
  name: string
  handle: string
  password: string
}

/** Creates the invited person's account, spends the invite, and joins every public channel. */
export async function acceptInvite(gw: Gateway, input: AcceptInput): Promise<{ user: { id: string; email: string }; member: MemberRow; workspace: WorkspaceRow }> {
  if (!usableInvite(gw.db, input.token)) throw invalid()
  const passwordHash = await hashPassword(input.password)
  const now = Date.now()
  const result = gw.db.transaction((tx) => {
    // Re-read inside the transaction: the hash above yielded, and the invite may be spent by now.
    const row = usableInvite(tx, input.token, now)
    if (!row) throw invalid()
    if (row.invite.email !== input.email) throw forbidden('invite_email_mismatch', `This invite is for ${row.invite.email}; sign up with that address.`)
    const spent = tx
      .update(invites)
      .set({ usedAt: now })
      .where(and(eq(invites.tokenHash, row.invite.tokenHash), isNull(invites.usedAt)))
      .run()
    if (spent.changes !== 1) throw invalid()
    const account = insertAccount(tx, { ...input, passwordHash, workspaceId: row.workspace.id, role: row.invite.role }, now)
    return { ...account, workspace: row.workspace }
  })
  await mirrorMember(gw, result.member)
  await joinPublicChannels(gw, result.workspace.id, result.member.id)
  return result
}
