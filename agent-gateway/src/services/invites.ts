import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm'
import { conversations, invites, workspaces } from '@circlechat/db'
import { hashPassword } from '../auth/passwords.js'
import type { AuthContext, MemberRow, WorkspaceRow } from '../auth/principal.js'
import { hashSecret, randomSecret } from '../auth/tokens.js'
import type { Gateway } from '../deps.js'
import { ApiError, badRequest, forbidden, notFound } from '../errors.js'
import { insertAccount, type Tx } from './accounts.js'
import { recordAudit } from './admin-audit.js'
import { addConversationMembers } from './conversation-store.js'
import { joinPublicChannels } from './conversations.js'
import { mirrorConversation, mirrorMember } from './doc-mirror.js'

/** A week: long enough to reach someone on holiday, short enough that a leaked link goes stale. */
const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000

const invalid = () => notFound('invite_invalid', 'This invite link is invalid, expired or already used; ask an admin for a new one.')
/** Why a known invite no longer works, said plainly on the invite page (410 Gone). */
const gone = (code: string, message: string) => new ApiError(410, code, message)

type InviteRow = typeof invites.$inferSelect

export interface EmailInviteInput {
  email: string
  role: 'admin' | 'member' | 'guest'
  /** A guest's channels (at least one); ignored for the other roles. */
  channelIds?: string[]
}

export function createInvite(gw: Gateway, auth: AuthContext, input: EmailInviteInput): { url: string; token: string } {
  const channelIds = guestChannels(gw, auth, input.role, input.channelIds ?? [])
  const token = randomSecret()
  const now = Date.now()
  gw.db.insert(invites).values({
    tokenHash: hashSecret(token), workspaceId: auth.workspace.id, email: input.email, role: input.role,
    createdBy: auth.member.id, expiresAt: now + INVITE_TTL_MS, createdAt: now, channelIds
  }).run()
  const url = `${gw.config.publicBaseUrl}/invite/${token}`
  // No mail server by default: the admin copies the link from here or from the response.
  console.log(`invite for ${input.email} (${input.role}): ${url}`)
  return { url, token }
}

/** The invite behind a token if it can still be accepted; otherwise throws why not. */
function usableInvite(tx: Tx, token: string, now = Date.now()) {
  const row = tx
    .select({ invite: invites, workspace: workspaces })
    .from(invites)
    .innerJoin(workspaces, eq(workspaces.id, invites.workspaceId))
    .where(eq(invites.tokenHash, hashSecret(token)))
    .get()
  if (!row) throw invalid()
  const { invite } = row
  if (invite.revokedAt !== null) throw gone('invite_revoked', 'This invite link was revoked by an admin; ask them for a new one.')
  if (invite.kind === 'email' && invite.usedAt !== null) throw gone('invite_used', 'This invite was already used; sign in, or ask an admin for a new one.')
  if (invite.expiresAt <= now) {
    throw gone('invite_expired', `This invite link expired on ${new Date(invite.expiresAt).toUTCString()}; ask an admin for a new one.`)
  }
  return row
}

/** `email` is '' for an invite link: any address may sign up with it. */
export function lookupInvite(gw: Gateway, token: string): { workspace: { name: string; handle: string }; email: string; role: InviteRow['role'] } {
  const row = usableInvite(gw.db, token)
  return { workspace: { name: row.workspace.name, handle: row.workspace.handle }, email: row.invite.email, role: row.invite.role }
}

export interface AcceptInput {
  token: string
  email: string
  name: string
  handle: string
  password: string
}

/**
 * Creates the invited person's account and spends the invite (an email invite once; a link counts
 * a use). A member joins every public channel; a guest only the invite's channels.
 */
export async function acceptInvite(gw: Gateway, input: AcceptInput): Promise<{ user: { id: string; email: string }; member: MemberRow; workspace: WorkspaceRow }> {
  usableInvite(gw.db, input.token)
  const passwordHash = await hashPassword(input.password)
  const now = Date.now()
  const result = gw.db.transaction((tx) => {
    // Re-read inside the transaction: the hash above yielded, and the invite may be spent by now.
    const row = usableInvite(tx, input.token, now)
    if (row.invite.kind === 'email' && row.invite.email !== input.email) {
      throw forbidden('invite_email_mismatch', `This invite is for ${row.invite.email}; sign up with that address.`)
    }
    const spent = row.invite.kind === 'link'
      ? tx.update(invites).set({ uses: sql`${invites.uses} + 1` }).where(and(eq(invites.tokenHash, row.invite.tokenHash), isNull(invites.revokedAt))).run()
      : tx.update(invites).set({ usedAt: now }).where(and(eq(invites.tokenHash, row.invite.tokenHash), isNull(invites.usedAt))).run()
    if (spent.changes !== 1) throw invalid()
    const account = insertAccount(tx, { ...input, passwordHash, workspaceId: row.workspace.id, role: row.invite.role }, now)
    return { ...account, workspace: row.workspace, channelIds: row.invite.channelIds ?? [] }
  })
  await mirrorMember(gw, result.member)
  if (result.member.role === 'guest') await joinInviteChannels(gw, result.workspace.id, result.member.id, result.channelIds)
  else await joinPublicChannels(gw, result.workspace.id, result.member.id)
  return result
}

/** A guest's channels: those of the invite that still exist and are not archived (also for SSO sign-ups, oidc/accounts.ts). */
export async function joinInviteChannels(gw: Gateway, workspaceId: string, memberId: string, ids: string[]): Promise<void> {
  for (const id of liveChannels(gw.db, workspaceId, ids)) {
    if (addConversationMembers(gw.db, id, [memberId]).length) await mirrorConversation(gw, id)
  }
}

function liveChannels(tx: Tx, workspaceId: string, ids: string[]): string[] {
  if (!ids.length) return []
  return tx.select({ id: conversations.id, archivedAt: conversations.archivedAt }).from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.kind, 'channel'), inArray(conversations.id, ids)))
    .all().filter((c) => c.archivedAt === null).map((c) => c.id)
}

// ---- invite links (the admin page) -------------------------------------------------------------

export interface LinkInput {
  role: 'member' | 'guest'
  /** 1 hour to 30 days. */
  expiresInHours: number
  /** A guest invite's channels (at least one); ignored for members, who join every public one. */
  channelIds: string[]
}

/** Everything an admin sees of an invite: never the token (shown once, at creation). */
export function inviteShape(i: InviteRow, now = Date.now()) {
  const status = i.revokedAt !== null ? 'revoked' : i.kind === 'email' && i.usedAt !== null ? 'used' : i.expiresAt <= now ? 'expired' : 'active'
  return {
    id: i.tokenHash, kind: i.kind, email: i.kind === 'email' ? i.email : null, role: i.role, channelIds: i.channelIds ?? [],
    createdBy: i.createdBy, createdAt: i.createdAt, expiresAt: i.expiresAt, revokedAt: i.revokedAt, uses: i.kind === 'link' ? i.uses : i.usedAt ? 1 : 0, status
  }
}

/** A reusable link: anyone holding it may sign up, with its role, until it expires or is revoked. */
/** The channels a guest invite names, checked: at least one, each an open channel here. [] for other roles. */
function guestChannels(gw: Gateway, auth: AuthContext, role: string, ids: string[]): string[] {
  if (role !== 'guest') return []
  const channelIds = [...new Set(ids)]
  if (!channelIds.length) throw badRequest('guest_needs_channels', 'Pick at least one channel for guests to join.')
  const live = new Set(liveChannels(gw.db, auth.workspace.id, channelIds))
  const missing = channelIds.filter((id) => !live.has(id))
  if (missing.length) throw badRequest('unknown_channel', `Not open channels of this workspace: ${missing.join(', ')}.`)
  return channelIds
}

export function createInviteLink(gw: Gateway, auth: AuthContext, input: LinkInput) {
  const channelIds = guestChannels(gw, auth, input.role, input.channelIds)
  const token = randomSecret()
  const now = Date.now()
  const row: InviteRow = {
    tokenHash: hashSecret(token), workspaceId: auth.workspace.id, email: '', role: input.role, createdBy: auth.member.id,
    expiresAt: now + input.expiresInHours * 3600_000, usedAt: null, kind: 'link', channelIds, uses: 0, createdAt: now, revokedAt: null
  }
  gw.db.transaction((tx) => {
    tx.insert(invites).values(row).run()
    recordAudit(tx, auth, { action: 'invite.create', targetKind: 'invite', targetId: row.tokenHash, detail: { role: row.role, channelIds, expiresAt: row.expiresAt } })
  })
  return { invite: inviteShape(row, now), url: `${gw.config.publicBaseUrl}/invite/${token}`, token }
}

/** The workspace's invites, links and emails, newest first (the last 200). */
export function listInvites(gw: Gateway, auth: AuthContext) {
  const now = Date.now()
  return gw.db.select().from(invites).where(eq(invites.workspaceId, auth.workspace.id))
    .orderBy(desc(invites.createdAt), desc(invites.expiresAt)).limit(200).all().map((i) => inviteShape(i, now))
}

/** Revoking is final: the link answers "revoked" from now on. Revoking twice is a no-op. */
export function revokeInvite(gw: Gateway, auth: AuthContext, id: string) {
  return gw.db.transaction((tx) => {
    const row = tx.select().from(invites).where(and(eq(invites.tokenHash, id), eq(invites.workspaceId, auth.workspace.id))).get()
    if (!row) throw notFound('invite_not_found', 'No such invite in this workspace.')
    if (row.revokedAt !== null) return inviteShape(row)
    const revoked = { ...row, revokedAt: Date.now() }
    tx.update(invites).set({ revokedAt: revoked.revokedAt }).where(eq(invites.tokenHash, id)).run()
    recordAudit(tx, auth, { action: 'invite.revoke', targetKind: 'invite', targetId: id, detail: { role: row.role, kind: row.kind, email: row.kind === 'email' ? row.email : null } })
    return inviteShape(revoked)
  })
}
