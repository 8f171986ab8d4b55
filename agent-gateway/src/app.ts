import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { StorageFailure } from '@circlechat/sync-server'
import type { Gateway } from './deps.js'
import { ApiError } from './errors.js'
import { bodyLimit } from './middleware/body-limit.js'
import { requestId } from './middleware/request-id.js'
import { csrf } from './middleware/csrf.js'
import { session } from './middleware/session.js'
import { securityHeaders } from './middleware/security-headers.js'
import { describeIssues } from './middleware/validate.js'
import { adminRoutes } from './routes/admin.js'
import { authRoutes } from './routes/auth.js'
import { oidcRoutes } from './routes/oidc.js'
import { conversationRoutes } from './routes/conversations.js'
import { healthRoutes } from './routes/health.js'
import { memberRoutes } from './routes/members.js'
import { messageRoutes } from './routes/messages.js'
import { profileRoutes } from './routes/profile.js'
import { chatRoutes } from './routes/chat.js'
import { taskRoutes } from './routes/tasks.js'
import { fileRoutes, fileServeRoutes } from './routes/files.js'
import { threadRoutes } from './routes/threads.js'
import { mountWebApp } from './web.js'

export interface AppOptions {
  /** The web app's static build; omitted in API-only setups. */
  webRoot?: string
  /**
   * More API routes, mounted after the core ones and behind the same session and CSRF middleware:
   * the seam where agent routes (src/agents/) plug in, e.g. `['/api/agents', agentRoutes(gw)]`.
   */
  routes?: Array<[path: string, routes: Hono<any, any, any>]>
}

const UPLOAD_PATHS = new Set(['/api/uploads', '/api/agent-api/uploads'])

/** Composes middleware and routes; all behaviour lives in routes/ and services/. */
export function createApp(gw: Gateway, opts: AppOptions = {}): Hono {
  const app = new Hono()
  app.use('*', requestId(), securityHeaders())
  // 1 MiB: a 40,000-character message is at most ~160 KB of UTF-8; anything far larger is abuse.
  // Uploads stream to storage under their own limit (MAX_UPLOAD_MB, services/files.ts).
  const jsonLimit = bodyLimit(1024 * 1024, () => { throw new ApiError(413, 'too_large', 'The request body is over 1 MiB.') })
  app.use('/api/*', (c, next) => (UPLOAD_PATHS.has(c.req.path) ? next() : jsonLimit(c, next)))
  app.use('/api/*', session({ db: gw.db, secureCookies: gw.secureCookies }), csrf({ publicBaseUrl: gw.config.publicBaseUrl }))
  app.use('/files/*', session({ db: gw.db, secureCookies: gw.secureCookies }))

  app.route('/health', healthRoutes(gw.sync))
  app.route('/api', authRoutes(gw))
  app.route('/api', oidcRoutes(gw))
  app.route('/api/members', memberRoutes(gw))
  app.route('/api/admin', adminRoutes(gw))
  app.route('/api/conversations', conversationRoutes(gw))
  app.route('/api/profile', profileRoutes(gw))
  app.route('/api', messageRoutes(gw))
  app.route('/api', chatRoutes(gw))
  app.route('/api', taskRoutes(gw))
  app.route('/api', fileRoutes(gw))
  app.route('/api', threadRoutes(gw))
  app.route('/files', fileServeRoutes(gw))
  for (const [path, routes] of opts.routes ?? []) app.route(path, routes)
  app.all('/api/*', (c) => c.json({ error: 'not_found', message: `No API route ${c.req.method} ${c.req.path}.` }, 404))
  if (opts.webRoot) mountWebApp(app, opts.webRoot)

  app.notFound((c) => c.json({ error: 'not_found', message: `Nothing at ${c.req.path}.` }, 404))
  app.onError((err, c) => {
    const { status, body } = toErrorResponse(err)
    if (status === 507) console.error(`${c.req.method} ${c.req.path} not stored: ${err instanceof Error ? err.message : err}`)
    else if (status >= 500) console.error(`${c.req.method} ${c.req.path} failed (request ${c.get('requestId')}):`, err)
    return c.json(body, status)
  })
  return app
}

const codeForStatus: Record<number, string> = {
  400: 'invalid_input', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  409: 'conflict', 413: 'too_large', 415: 'unsupported_media_type', 429: 'rate_limited'
}

/** Every error becomes `{error, message}` (docs/api.md); only unknown errors are 500s. */
export function toErrorResponse(err: unknown): { status: ContentfulStatusCode; body: { error: string; message: string } } {
  if (err instanceof ApiError) return { status: err.status as ContentfulStatusCode, body: { error: err.code, message: err.message } }
  if (err instanceof HTTPException) {
    // Hono's own, e.g. "Malformed JSON in request body" from the validator.
    const status = err.status as ContentfulStatusCode
    return { status, body: { error: codeForStatus[status] ?? 'error', message: err.message || 'Request refused.' } }
  }
  if (err instanceof z.ZodError) return { status: 400, body: { error: 'invalid_input', message: describeIssues(err.issues) } }
  if (isStorageFailure(err)) {
    return { status: 507, body: { error: 'storage_full', message: 'The server could not store this (disk full or read-only). Nothing was saved; try again later.' } }
  }
  if (isUniqueViolation(err)) {
    // Two requests raced past the same check (e.g. one handle claimed twice at once).
    return { status: 409, body: { error: 'conflict', message: 'That already exists; reload and try again.' } }
  }
  return { status: 500, body: { error: 'internal', message: 'Something went wrong on the server; try again, and tell an admin if it persists.' } }
}

/** The disk refused the write: a relay commit (StorageFailure) or a relational one. */
const STORAGE_CODES = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN)/
const isStorageFailure = (err: unknown) =>
  err instanceof StorageFailure || (typeof err === 'object' && err !== null && 'code' in err && STORAGE_CODES.test(String(err.code)))

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && 'code' in err && (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
