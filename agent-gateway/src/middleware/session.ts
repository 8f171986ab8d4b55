import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Db } from '@circlechat/db'
import { principalFromRequest, type AuthContext } from '../auth/principal.js'
import { SESSION_COOKIE, clearSessionCookie, setSessionCookie } from '../auth/sessions.js'

export type SessionVariables = { auth: AuthContext | null }

declare module 'hono' {
  interface ContextVariableMap extends SessionVariables {}
}

/**
 * Resolves the caller (cookie session or bot token) into `c.get('auth')`; never rejects, so public
 * routes still run. Re-sends the cookie when the session slid forward, and clears a stale one.
 */
export function session(opts: { db: Db; secureCookies: boolean }): MiddlewareHandler {
  return async function session(c, next) {
    const auth = principalFromRequest(opts.db, c.req.raw.headers)
    c.set('auth', auth)
    if (auth?.session?.renewed && auth.sessionToken) {
      setSessionCookie(c, auth.sessionToken, auth.session.expiresAt, opts.secureCookies)
    } else if (!auth && getCookie(c, SESSION_COOKIE)) {
      clearSessionCookie(c, opts.secureCookies)
    }
    await next()
  }
}
