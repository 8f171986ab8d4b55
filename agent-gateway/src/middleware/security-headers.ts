import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { HttpBindings } from '@hono/node-server'

/**
 * For everything that is not the web app (JSON, /health, error pages): nothing may load or
 * frame it. The web app's responses carry their own policy (webAppCsp) and keep it.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'"

/**
 * On every response: no MIME sniffing (a body must never run as a type it was not served as),
 * and no full URL in the Referer to other sites (invite tokens live in paths).
 */
export function securityHeaders(): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    // On the Node response before the handler runs: Node merges them under the headers the
    // response writes (those win, so a page's own CSP stays). Setting them on c.res afterwards
    // would turn @hono/node-server's light Response into a web Response with a body stream on
    // every request. `app.request()` has no Node response and takes Hono's way.
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing
    if (outgoing) {
      outgoing.setHeader('X-Content-Type-Options', 'nosniff')
      outgoing.setHeader('Referrer-Policy', 'same-origin')
      outgoing.setHeader('Content-Security-Policy', API_CSP)
      return next()
    }
    await next()
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'same-origin')
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', API_CSP)
  }
}

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script\s*>/gi

/** `'sha256-…'` sources for the inline `<script>` blocks of an HTML page (SvelteKit's bootstrap). */
export function inlineScriptHashes(html: string): string[] {
  const out = new Set<string>()
  for (const m of html.matchAll(INLINE_SCRIPT)) out.add(`'sha256-${createHash('sha256').update(m[1] ?? '', 'utf8').digest('base64')}'`)
  return [...out]
}

/**
 * The web app's policy. Scripts: our own files plus the exact inline blocks of the page being
 * served (hashed, so an injected script runs nowhere). Styles allow inline: Svelte transitions
 * and the composer's autosize write style attributes. Images may come from https (avatars are
 * URLs); media from our files and the page's own recordings (blob:). Connections are
 * same-origin only: REST, /sync and /agent-socket share the page's origin.
 */
export function webAppCsp(html = ''): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...inlineScriptHashes(html)].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    // blob: for a voice message played back in review before it is uploaded.
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join('; ')
}
