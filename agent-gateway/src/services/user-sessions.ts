import { and, desc, eq } from 'drizzle-orm'
import { sessions } from '@circlechat/db'
import { sessionCredential, type AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { badRequest, notFound } from '../errors.js'
import type { Tx } from './accounts.js'

/** What the profile's session list shows of one session (never its token). */
export interface SessionJson {
  id: string
  createdAt: number | null
  lastSeenAt: number | null
  userAgent: string | null
  ip: string | null
  expiresAt: number
  current: boolean
}

/** Every live session of the caller, most recently seen first, the current one marked. */
export function listSessions(gw: Gateway, auth: AuthContext): SessionJson[] {
  const user = personOf(auth)
  const now = Date.now()
  return gw.db.select().from(sessions).where(eq(sessions.userId, user.id)).orderBy(desc(sessions.lastSeenAt)).all()
    .filter((s) => s.expiresAt > now)
    .map((s) => ({
      id: s.id, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, userAgent: s.userAgent, ip: s.ip, expiresAt: s.expiresAt,
      current: s.id === auth.session?.id
    }))
}

/** Signs out one of the caller's other sessions (sign out of this one with POST /api/auth/logout). */
export function endSession(gw: Gateway, auth: AuthContext, sessionId: string): void {
  const user = personOf(auth)
  if (sessionId === auth.session?.id) throw badRequest('current_session', 'This is the session you are using; sign out instead.')
  const gone = gw.db.delete(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.userId, user.id))).run()
  // Someone else's session id is the same 404 as a missing one.
  if (gone.changes !== 1) throw notFound('session_not_found', 'No such session; it may have ended already.')
  announceEnded(gw, [sessionId])
}

/** Signs out every session of the caller but this one; returns how many ended. */
export function endOtherSessions(gw: Gateway, auth: AuthContext): number {
  const user = personOf(auth)
  const ended = gw.db.transaction((tx) => endSessions(tx, user.id, auth.session?.id))
  announceEnded(gw, ended)
  return ended.length
}

/** Deletes a person's sessions except `keep`; returns the ids ended, for announceEnded. */
export function endSessions(tx: Tx, userId: string, keep?: string): string[] {
  const ids = tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, userId)).all().map((r) => r.id).filter((id) => id !== keep)
  for (const id of ids) tx.delete(sessions).where(eq(sessions.id, id)).run()
  return ids
}

/** After the deletes commit: sockets opened with those sessions close now, not at their next write. */
export function announceEnded(gw: Pick<Gateway, 'revocations'>, sessionIds: string[]): void {
  for (const id of sessionIds) gw.revocations.credential(sessionCredential(id))
}

/** Sessions belong to people: a bot token has none to list. */
export function personOf(auth: AuthContext): { id: string; email: string } {
  if (!auth.user) throw badRequest('not_a_person', 'Agents have no sessions or profile password; use the agent settings instead.')
  return auth.user
}
