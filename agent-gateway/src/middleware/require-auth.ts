import type { MiddlewareHandler } from 'hono'
import type { AuthContext } from '../auth/principal.js'
import { unauthenticated } from '../errors.js'
import './session.js'

/** 401 unless the session middleware found a caller. Use `authOf(c)` after it for a non-null context. */
export function requireAuth(): MiddlewareHandler {
  return async function requireAuth(c, next) {
    if (!c.get('auth')) throw unauthenticated()
    await next()
  }
}

/** The caller of an authenticated route; throws 401 if requireAuth was not mounted. */
export function authOf(c: { get(key: 'auth'): AuthContext | null }): AuthContext {
  const auth = c.get('auth')
  if (!auth) throw unauthenticated()
  return auth
}
