import type { IncomingHttpHeaders } from 'node:http'
import { and, eq } from 'drizzle-orm'
import { parse as parseCookies } from 'hono/utils/cookie'
import { agents, members, users, workspaces, type Db } from '@circlechat/db'
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

const toPrincipal = (m: MemberRow): Principal => ({ memberId: m.id, workspaceId: m.workspaceId, role: m.role, kind: m.kind })

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
export function principalFromRequest(db: Db, headers: HeaderSource, now = Date.now()): AuthContext | null {
  const bot = bearerToken(headers)
  if (bot) return fromBotToken(db, bot)
  const cookie = header(headers, 'cookie')
  const token = cookie ? parseCookies(cookie, SESSION_COOKIE)[SESSION_COOKIE] : undefined
  return token ? fromSessionToken(db, token, now) : null
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
  return { principal: toPrincipal(row.member), member: row.member, workspace: row.workspace, user: null, session: null, sessionToken: null, via: 'bearer' }
}

function fromSessionToken(db: Db, token: string, now: number): AuthContext | null {
  const session = validateSessionToken(db, token, now)
  if (!session) return null
  // One workspace per installation: a person has one member row in it.
  const row = db
    .select({ user: { id: users.id, email: users.email }, member: members, workspace: workspaces })
    .from(users)
    .innerJoin(members, and(eq(members.userId, users.id), eq(members.deactivated, false)))
    .innerJoin(workspaces, eq(workspaces.id, members.workspaceId))
    .where(eq(users.id, session.userId))
    .get()
  if (!row) return null
  return { principal: toPrincipal(row.member), ...row, session, sessionToken: token, via: 'cookie' }
}
