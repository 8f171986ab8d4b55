import { and, asc, desc, eq, gt, isNull } from 'drizzle-orm'
import { invites, members, oidcIdentities, users, workspaces } from '@circlechat/db'
import { BROADCAST_MENTIONS } from '@circlechat/model'
import { hashPassword } from '../auth/passwords.js'
import type { MemberRow } from '../auth/principal.js'
import { randomSecret } from '../auth/tokens.js'
import type { Gateway } from '../deps.js'
import { insertAccount, type Tx } from '../services/accounts.js'
import { joinPublicChannels } from '../services/conversations.js'
import { mirrorMember } from '../services/doc-mirror.js'
import { joinInviteChannels } from '../services/invites.js'
import type { VerifiedClaims } from './client.js'
import type { LinkState } from './pending.js'

/** Why a checked identity still gets no session; each has a sentence on the sign-in page. */
export type AccountRefusal = 'unverified_email' | 'not_invited' | 'deactivated' | 'already_linked' | 'no_workspace'

export type Resolution =
  | { kind: 'session'; userId: string }
  | { kind: 'link'; link: LinkState }
  | { kind: 'refused'; code: AccountRefusal }

const activeMember = (tx: Tx, userId: string) =>
  tx.select().from(members).where(and(eq(members.userId, userId), eq(members.deactivated, false))).get()

/**
 * Decides what a verified provider identity may do, in this order:
 * 1. linked before (issuer + subject): sign in, whatever the email says now;
 * 2. a verified email of an existing account: link it, after the member confirms their password;
 * 3. a verified email with a pending invite, or of an allowed domain: create the member.
 * An unverified email is never matched to anything: anyone can type an address at some providers.
 */
export async function resolveIdentity(gw: Gateway, claims: VerifiedClaims): Promise<Resolution> {
  const linked = gw.db.select().from(oidcIdentities)
    .where(and(eq(oidcIdentities.issuer, claims.issuer), eq(oidcIdentities.subject, claims.subject))).get()
  if (linked) return activeMember(gw.db, linked.userId) ? { kind: 'session', userId: linked.userId } : { kind: 'refused', code: 'deactivated' }
  if (!claims.email || !claims.emailVerified) return { kind: 'refused', code: 'unverified_email' }
  const email = claims.email
  const user = gw.db.select({ id: users.id }).from(users).where(eq(users.email, email)).get()
  if (user) {
    if (!activeMember(gw.db, user.id)) return { kind: 'refused', code: 'deactivated' }
    const other = gw.db.select().from(oidcIdentities).where(and(eq(oidcIdentities.issuer, claims.issuer), eq(oidcIdentities.userId, user.id))).get()
    if (other) return { kind: 'refused', code: 'already_linked' }
    return { kind: 'link', link: { issuer: claims.issuer, subject: claims.subject, email, userId: user.id } }
  }
  return createFromProvider(gw, claims, email)
}

/** Links a provider identity to the user the member proved to be (by password); once per issuer. */
export function linkIdentity(gw: Gateway, link: LinkState, now = Date.now()): void {
  gw.db.insert(oidcIdentities).values({ issuer: link.issuer, subject: link.subject, userId: link.userId, email: link.email, createdAt: now }).run()
}

function pendingInvite(tx: Tx, email: string, now: number) {
  return tx.select().from(invites)
    .where(and(eq(invites.email, email), eq(invites.kind, 'email'), isNull(invites.usedAt), isNull(invites.revokedAt), gt(invites.expiresAt, now)))
    .orderBy(desc(invites.expiresAt)).get()
}

async function createFromProvider(gw: Gateway, claims: VerifiedClaims, email: string): Promise<Resolution> {
  const now = Date.now()
  const domain = email.slice(email.lastIndexOf('@') + 1)
  const domainAllowed = gw.config.oidc?.allowedDomains.includes(domain) ?? false
  if (!pendingInvite(gw.db, email, now) && !domainAllowed) return { kind: 'refused', code: 'not_invited' }
  // Nobody types this password: the account signs in through the provider (or a password reset).
  const passwordHash = await hashPassword(randomSecret())
  const created = gw.db.transaction((tx) => {
    // Re-read inside the transaction: the hash above yielded, and the invite may be spent by now.
    const invite = pendingInvite(tx, email, now)
    let workspaceId: string
    let role: MemberRow['role'] = 'member'
    if (invite) {
      const spent = tx.update(invites).set({ usedAt: now, uses: invite.uses + 1 }).where(and(eq(invites.tokenHash, invite.tokenHash), isNull(invites.usedAt))).run()
      if (spent.changes !== 1) return null
      workspaceId = invite.workspaceId
      role = invite.role
    } else if (domainAllowed) {
      const ws = tx.select({ id: workspaces.id }).from(workspaces).orderBy(asc(workspaces.createdAt)).limit(1).get()
      if (!ws) return null
      workspaceId = ws.id
    } else return null
    const handle = freeHandle(tx, workspaceId, claims.preferredUsername, email)
    const account = insertAccount(tx, { email, passwordHash, name: displayName(claims, email), handle, workspaceId, role }, now)
    tx.insert(oidcIdentities).values({ issuer: claims.issuer, subject: claims.subject, userId: account.user.id, email, createdAt: now }).run()
    return { member: account.member, channelIds: invite?.role === 'guest' ? invite.channelIds ?? [] : null }
  })
  if (!created) return { kind: 'refused', code: hasAnyWorkspace(gw) ? 'not_invited' : 'no_workspace' }
  await mirrorMember(gw, created.member)
  if (created.channelIds) await joinInviteChannels(gw, created.member.workspaceId, created.member.id, created.channelIds)
  else await joinPublicChannels(gw, created.member.workspaceId, created.member.id)
  return { kind: 'session', userId: created.member.userId! }
}

const hasAnyWorkspace = (gw: Gateway) => gw.db.select({ id: workspaces.id }).from(workspaces).limit(1).get() !== undefined

/** The provider's name claim, else the email's local part: "ada.lovelace@x" → "ada.lovelace". */
function displayName(claims: VerifiedClaims, email: string): string {
  const name = (claims.name ?? '').trim().slice(0, 80)
  return name || email.slice(0, email.indexOf('@')).slice(0, 80)
}

/** preferred_username or the email's local part, in the handle alphabet, made unique with a number. */
export function freeHandle(tx: Tx, workspaceId: string, preferred: string | undefined, email: string): string {
  const clean = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9._-]+/g, '').replace(/^[._-]+|[._-]+$/g, '').slice(0, 36)
  let base = clean(preferred ?? '') || clean(email.slice(0, email.indexOf('@')))
  if (base.length < 2) base = `user${base}`
  const taken = (h: string) => BROADCAST_MENTIONS.has(h) ||
    tx.select({ id: members.id }).from(members).where(and(eq(members.workspaceId, workspaceId), eq(members.handle, h))).get() !== undefined
  if (!taken(base)) return base
  for (let n = 2; n < 100; n++) if (!taken(`${base}${n}`)) return `${base}${n}`
  return `${base.slice(0, 30)}-${randomSecret().slice(0, 6)}`
}
