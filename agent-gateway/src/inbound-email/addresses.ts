import { and, eq } from 'drizzle-orm'
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'
import { inboundAddresses, members } from '@circlechat/db'
import { newId } from '@circlechat/model'
import type { AuthContext } from '../auth/principal.js'
import { hashSecret } from '../auth/tokens.js'
import type { TokenVault } from '../agents/token-vault.js'
import type { Gateway } from '../deps.js'
import { badRequest } from '../errors.js'
import { requireChannel, requireManager } from '../services/channel-settings.js'
import { addConversationMembers } from '../services/conversation-store.js'
import { mirrorConversation, mirrorMember } from '../services/doc-mirror.js'
import { getConversation } from '../services/request-queries.js'

/**
 * A channel's inbound address `<channel>+<secret>@INBOUND_DOMAIN`. The secret alone finds the
 * channel (by its hash, so the lookup is an index probe and never compares secrets byte by byte);
 * the channel part is for people reading the address, cut so the local part stays within
 * RFC 5321's 64 octets. Only the channel's creator and workspace admins see or change it.
 */

export type InboundRow = typeof inboundAddresses.$inferSelect

export interface InboundAddressJson {
  enabled: boolean
  /** Null while the listener is off (no INBOUND_DOMAIN) or the address was never turned on. */
  address: string | null
  memberId: string | null
  /** False when this server runs no SMTP listener: the address would not receive anything. */
  listening: boolean
}

/** 16 random bytes: 26 base32 characters, 128 bits. */
function newSecret(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return encodeBase32LowerCaseNoPadding(bytes)
}

const SECRET_CHARS = 26
const MAX_LOCAL_PART = 64

export function formatAddress(channelName: string, secret: string, domain: string): string {
  return `${channelName.slice(0, MAX_LOCAL_PART - SECRET_CHARS - 1)}+${secret}@${domain}`
}

/**
 * The enabled address an RCPT TO names, or null (unknown, disabled, rotated away, another
 * domain, or an archived channel). Read from SQLite at every call, so a rotation or disable
 * refuses the old address at once.
 */
export function resolveRecipient(gw: Gateway, domain: string, rcpt: string): (InboundRow & { workspaceId: string; channelName: string }) | null {
  const at = rcpt.lastIndexOf('@')
  if (at <= 0 || rcpt.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null
  const local = rcpt.slice(0, at).toLowerCase()
  const plus = local.lastIndexOf('+')
  const secret = plus >= 0 ? local.slice(plus + 1) : ''
  if (!/^[a-z2-7]{26}$/.test(secret)) return null
  const row = gw.db.select().from(inboundAddresses).where(eq(inboundAddresses.secretHash, hashSecret(secret))).get()
  if (!row?.enabled) return null
  const c = getConversation(gw.db, row.conversationId)
  if (!c || c.kind !== 'channel' || c.archivedAt !== null) return null
  return { ...row, workspaceId: c.workspaceId, channelName: c.name }
}

function json(gw: Gateway, vault: TokenVault, row: InboundRow | undefined, channelName: string): InboundAddressJson {
  const domain = gw.config.inboundDomain
  return {
    enabled: row?.enabled ?? false,
    address: row && domain ? formatAddress(channelName, vault.open(row.secretCipher), domain) : null,
    memberId: row?.memberId ?? null,
    listening: gw.config.smtpInboundPort !== undefined
  }
}

const rowOf = (gw: Gateway, conversationId: string) =>
  gw.db.select().from(inboundAddresses).where(eq(inboundAddresses.conversationId, conversationId)).get()

function requireChannelManager(gw: Gateway, auth: AuthContext, id: string, what: string) {
  const c = requireChannel(gw, auth, id)
  requireManager(auth, c, what)
  return c
}

export function getInboundAddress(gw: Gateway, vault: TokenVault, auth: AuthContext, id: string): InboundAddressJson {
  const c = requireChannelManager(gw, auth, id, "see the channel's email address")
  return json(gw, vault, rowOf(gw, id), c.name)
}

/** A free handle for the channel's Email member: `<channel>-email`, then -2, -3… */
function emailHandle(gw: Gateway, workspaceId: string, channelName: string): string {
  const base = `${channelName.slice(0, 60)}-email`
  for (let n = 1; n < 1000; n++) {
    const handle = n === 1 ? base : `${base}-${n}`
    const taken = gw.db.select({ id: members.id }).from(members).where(and(eq(members.workspaceId, workspaceId), eq(members.handle, handle))).get()
    if (!taken) return handle
  }
  throw badRequest('handle_taken', 'No free handle for the Email member; rename the channel and try again.')
}

/**
 * Turns the address on (a first time: a new secret and the channel's Email member, who joins the
 * channel), or back on with its old secret. `rotate` replaces the secret: the old address is
 * refused from the next RCPT TO. Archived channels cannot be changed.
 */
export async function enableInboundAddress(gw: Gateway, vault: TokenVault, auth: AuthContext, id: string, opts: { rotate: boolean }): Promise<InboundAddressJson> {
  const c = requireChannelManager(gw, auth, id, opts.rotate ? "rotate the channel's email address" : "turn on the channel's email address")
  if (c.archivedAt !== null) throw badRequest('conversation_archived', `#${c.name} is archived; unarchive it first.`)
  const now = Date.now()
  const existing = rowOf(gw, id)
  let memberId = existing?.memberId
  let newMember = false
  gw.db.transaction((tx) => {
    if (!memberId) {
      memberId = newId('member')
      newMember = true
      tx.insert(members).values({
        id: memberId, workspaceId: c.workspaceId, userId: null, kind: 'bot', name: 'Email', handle: emailHandle(gw, c.workspaceId, c.name),
        role: 'member', avatar: null, title: `Mail sent to #${c.name}`, reportsTo: null, deactivated: false, createdAt: now
      }).run()
    }
    // Someone may have removed the Email member from the channel: it rejoins, as it must be a
    // member to post there.
    addConversationMembers(tx, id, [memberId], now)
    if (!existing || opts.rotate) {
      const secret = newSecret()
      const values = { secretHash: hashSecret(secret), secretCipher: vault.seal(secret), enabled: true, updatedBy: auth.member.id, updatedAt: now }
      if (existing) tx.update(inboundAddresses).set(values).where(eq(inboundAddresses.conversationId, id)).run()
      else tx.insert(inboundAddresses).values({ conversationId: id, memberId, ...values }).run()
    } else {
      tx.update(inboundAddresses).set({ enabled: true, updatedBy: auth.member.id, updatedAt: now }).where(eq(inboundAddresses.conversationId, id)).run()
    }
  })
  if (newMember) await mirrorMember(gw, gw.db.select().from(members).where(eq(members.id, memberId!)).get()!)
  await mirrorConversation(gw, id)
  return json(gw, vault, rowOf(gw, id), c.name)
}

/** Turns the address off; its secret is kept, so turning it on again restores the same address. */
export function disableInboundAddress(gw: Gateway, vault: TokenVault, auth: AuthContext, id: string): InboundAddressJson {
  const c = requireChannelManager(gw, auth, id, "turn off the channel's email address")
  gw.db.update(inboundAddresses).set({ enabled: false, updatedBy: auth.member.id, updatedAt: Date.now() }).where(eq(inboundAddresses.conversationId, id)).run()
  return json(gw, vault, rowOf(gw, id), c.name)
}
