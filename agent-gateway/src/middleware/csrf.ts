import type { MiddlewareHandler } from 'hono'
import { forbidden } from '../errors.js'
import { bearerToken } from '../auth/principal.js'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cookies ride along on cross-site requests, so an unsafe method must prove it came from our
 * own page: browsers send `Origin` on every fetch/POST, and a foreign site cannot forge it.
 * Accepted: the request's own origin, or PUBLIC_BASE_URL's (behind a proxy they differ). Bot
 * tokens are exempt: a browser never attaches them by itself. Login and signup are covered too
 * (login CSRF would sign a victim into an attacker's account).
 */
export function csrf(opts: { publicBaseUrl: string }): MiddlewareHandler {
  const publicOrigin = new URL(opts.publicBaseUrl).origin
  return async function csrf(c, next) {
    if (SAFE.has(c.req.method) || bearerToken(c.req.raw.headers)) return next()
    const origin = c.req.header('origin')
    if (!origin || (origin !== new URL(c.req.url).origin && origin !== publicOrigin)) {
      throw forbidden('csrf', 'This request must come from the CircleChat page itself (Origin header missing or foreign).')
    }
    await next()
  }
}

/**
 * For WebSocket upgrades (no CSRF token possible): a browser always sends Origin, so a foreign
 * Origin on a cookie-authenticated upgrade is cross-site WebSocket hijacking and is refused.
 * A missing Origin is a non-browser client (an agent, a test), which cannot ride a victim's cookie.
 */
export function upgradeOriginAllowed(origin: string | undefined, host: string | undefined, publicBaseUrl: string): boolean {
  if (!origin) return true
  if (origin === new URL(publicBaseUrl).origin) return true
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
  }
}
