import type { MiddlewareHandler } from 'hono'
import { forbidden, unauthenticated } from '../errors.js'
import './session.js'

/** 403 unless the caller is a workspace admin (invites, moderation). */
export function requireAdmin(): MiddlewareHandler {
  return async function requireAdmin(c, next) {
    const auth = c.get('auth')
    if (!auth) throw unauthenticated()
    if (auth.member.role !== 'admin') throw forbidden('admin_only', 'Only a workspace admin can do this.')
    await next()
  }
}
