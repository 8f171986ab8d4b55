import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { sessions, type Db } from '@circlechat/db'
import { deleteSession, renewSession, sessionById, touchSession } from '../services/request-queries.js'
import { hashSecret, randomSecret } from './tokens.js'

/**
 * Sessions as lucia-auth.com now teaches (no library): the random token lives only in the cookie,
 * the table keeps hex(sha256(token)), so a database leak cannot be replayed as a login.
 */
export const SESSION_COOKIE = 'cc_session'
const DAY = 24 * 60 * 60 * 1000
/** 30 days; renewed when less than half remains, so an active person never gets logged out. */
export const SESSION_TTL_MS = 30 * DAY
const RENEW_BELOW_MS = 15 * DAY
/** lastSeenAt is written at most once a minute per session: one small UPDATE, not one per request. */
const TOUCH_EVERY_MS = 60_000

export interface Session {
  id: string
  userId: string
  expiresAt: number
  /** True when this validation pushed expiresAt forward; the cookie should be re-sent. */
  renewed: boolean
}

/** A live session and the person behind it, read together: null once the member is deactivated. */
export interface ValidSession {
  session: Session
  person: NonNullable<ReturnType<typeof sessionById>>['person']
}

/** Where a session was started, for the owner's session list (bounded: headers are the client's word). */
export interface SessionOrigin {
  userAgent?: string | null
  ip?: string | null
}

export function createSession(db: Db, userId: string, now = Date.now(), from: SessionOrigin = {}): { token: string; session: Session } {
  const token = randomSecret()
  const session = { id: hashSecret(token), userId, expiresAt: now + SESSION_TTL_MS, renewed: false }
  db.insert(sessions).values({
    id: session.id, userId, expiresAt: session.expiresAt, createdAt: now, lastSeenAt: now,
    userAgent: from.userAgent?.slice(0, 300) ?? null, ip: from.ip?.slice(0, 64) ?? null
  }).run()
  return { token, session }
}

/**
 * `renew: false` never slides the expiry: for a sync upgrade, whose response cannot re-send the
 * cookie, so renewing there would keep the server's row alive past the browser's cookie.
 */
export function validateSessionToken(db: Db, token: string, now = Date.now(), opts: { renew?: boolean } = {}): ValidSession | null {
  const id = hashSecret(token)
  const found = sessionById(db, id)
  if (!found) return null
  const { session: row, person } = found
  if (now >= row.expiresAt) {
    deleteSession(db, id)
    return null
  }
  // "Last seen" on the profile's session list, and the mention digest's "away since".
  if (row.lastSeenAt === null || now - row.lastSeenAt >= TOUCH_EVERY_MS) touchSession(db, id, now)
  if (opts.renew !== false && row.expiresAt - now < RENEW_BELOW_MS) {
    const expiresAt = now + SESSION_TTL_MS
    renewSession(db, id, expiresAt)
    return { session: { id: row.id, userId: row.userId, expiresAt, renewed: true }, person }
  }
  return { session: { id: row.id, userId: row.userId, expiresAt: row.expiresAt, renewed: false }, person }
}

export function invalidateSession(db: Db, sessionId: string): void {
  deleteSession(db, sessionId)
}

/** Secure only over https: browsers drop Secure cookies on plain http (a laptop on :8080). */
export function setSessionCookie(c: Context, token: string, expiresAt: number, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure,
    expires: new Date(expiresAt)
  })
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Lax' })
}
