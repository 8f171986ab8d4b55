import type { MiddlewareHandler } from 'hono'
import { requestId as webRequestId } from 'hono/request-id'
import type { HttpBindings } from '@hono/node-server'

/** Hono's rule for a caller's own id: up to 255 word characters, `-` and `=`. */
const GIVEN_ID = /^[\w\-=]{1,255}$/

/**
 * Hono's requestId (`c.get('requestId')`, the `X-Request-Id` header: the caller's own if it is
 * well-formed, else a random UUID), with the header set on the Node response as securityHeaders
 * does: through `c.header` every JSON answer built and copied a web Headers object. Requests
 * without a Node response (`app.request()`) take Hono's middleware.
 */
export function requestId(): MiddlewareHandler {
  const viaHono = webRequestId()
  return async function requestId(c, next) {
    const env = c.env as Partial<HttpBindings> | undefined
    if (!env?.outgoing || !env.incoming) return viaHono(c, next)
    const given = env.incoming.headers['x-request-id']
    const id = typeof given === 'string' && GIVEN_ID.test(given) ? given : crypto.randomUUID()
    c.set('requestId', id)
    env.outgoing.setHeader('X-Request-Id', id)
    return next()
  }
}
