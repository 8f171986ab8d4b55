import type { IncomingHttpHeaders } from 'node:http'
import { eq } from 'drizzle-orm'
import { parse as parseCookies } from 'hono/utils/cookie'
import { agents, members, workspaces, type Db } from '@circlechat/db'
import type { Principal } from '@circlechat/sync-server'
import { SESSION_COOKIE, validateSessionToken, type Session } from './sessions.js'
import { BOT_TOKEN_PREFIX, hashSecret } from './tokens.js'

export type MemberRow = typeof members.$inferSelect
export type WorkspaceRow = typeof workspaces.$inferSelect

/** Everything a request knows about who sent it. */
export interface AuthContext {
  principal: Principal
  member: MemberRow
  workspace: WorkspaceRow
  /** null for agents (bot tokens belong to a member, not to a person). */
  user: { id: string; email: string } | null
  /** The cookie session, when that is how the request authenticated. */
  session: Session | null
  /** The raw cookie token, so a renewed session can re-send the same cookie. */
  sessionToken: string | null
  via: 'cookie' | 'bearer'
}

type HeaderSource = Headers | IncomingHttpHeaders

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

const toPrincipal = (m: MemberRow, credentialId: string, expiresAt?: number): Principal => ({
  memberId: m.id, workspaceId: m.workspaceId, role: m.role, kind: m.kind, credentialId, ...(expiresAt !== undefined ? { expiresAt } : {})
})

/** Credential ids a Principal carries: what revokeCredential and credentialExpiry key on. */
export const sessionCredential = (sessionId: string) => `session:${sessionId}`
export const botCredential = (tokenHash: string) => `bot:${tokenHash}`

/** The bearer token of an `Authorization: Bearer cc_…` header, or null. */
export function bearerToken(headers: HeaderSource): string | null {
  const auth = header(headers, 'authorization')
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim()) : null
  return m && m[1]!.startsWith(BOT_TOKEN_PREFIX) ? m[1]! : null
}

/**
 * Resolves a request's session cookie or bot token to its member. Shared by the REST session
 * middleware and the sync server's upgrade `authenticate`, so both doors apply the same rules
 * (expiry, sliding renewal, deactivated members locked out).
 */
export function principalFromRequest(db: Db, headers: HeaderSource, now = Date.now(), opts: { renew?: boolean } = {}): AuthContext | null {
  const bot = bearerToken(headers)
  if (bot) return fromBotToken(db, bot)
  const cookie = header(headers, 'cookie')
  const token = cookie ? parseCookies(cookie, SESSION_COOKIE)[SESSION_COOKIE] : undefined
  return token ? fromSessionToken(db, token, now, opts.renew ?? true) : null
}

function fromBotToken(db: Db, token: string): AuthContext | null {
  const row = db
    .select({ member: members, workspace: workspaces })
    .from(agents)
    .innerJoin(members, eq(members.id, agents.memberId))
    .innerJoin(workspaces, eq(workspaces.id, members.workspaceId))
    .where(eq(agents.tokenHash, hashSecret(token)))
    .get()
  if (!row || row.member.deactivated) return null
  return { principal: toPrincipal(row.member, botCredential(hashSecret(token))), member: row.member, workspace: row.workspace, user: null, session: null, sessionToken: null, via: 'bearer' }
}

function fromSessionToken(db: Db, token: string, now: number, renew: boolean): AuthContext | null {
  const valid = validateSessionToken(db, token, now, { renew })
  if (!valid?.person) return null
  const { session, person } = valid
  return { principal: toPrincipal(person.member, sessionCredential(session.id), session.expiresAt), ...person, session, sessionToken: token, via: 'cookie' }
}

/**
 * The sync relay's `credentialExpiry`: until when a principal's credential holds, read fresh from
 * SQLite (a session may have been renewed, ended or expired; a bot token rotated; the member
 * deactivated). One prepared statement; Infinity for bot tokens, null once it no longer holds.
 */
export function credentialExpiryChecker(db: Db): (principal: Principal) => number | null {
  const sqlite = db.$client
  const session = sqlite.prepare(`SELECT s.expires_at FROM sessions s JOIN members m ON m.user_id = s.user_id
    WHERE s.id = ? AND m.id = ? AND m.deactivated = 0`).pluck()
  const bot = sqlite.prepare(`SELECT 1 FROM agents a JOIN members m ON m.id = a.member_id
    WHERE a.token_hash = ? AND m.id = ? AND m.deactivated = 0`).pluck()
  return (principal) => {
    const id = principal.credentialId ?? ''
    if (id.startsWith('session:')) return (session.get(id.slice('session:'.length), principal.memberId) as number | undefined) ?? null
    if (id.startsWith('bot:')) return bot.get(id.slice('bot:'.length), principal.memberId) === 1 ? Infinity : null
    return null // a principal from this gateway always carries one of the two
  }
}
