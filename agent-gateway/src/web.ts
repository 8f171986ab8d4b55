import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Hono } from 'hono'
import { webAppCsp } from './middleware/security-headers.js'

/** Paths the server owns; everything else is the web app's. */
const SERVER_PATHS = /^\/(api|sync|agent-socket|health)(\/|$)/
/** SvelteKit's content-hashed output. */
const IMMUTABLE_PATH = /^\/_app\/immutable\//
/** Build output and files with an extension: a miss is a 404, never the app shell. */
const ASSET_PATH = /^\/_app\/|\.(js|mjs|css|map|json|webmanifest|png|svg|ico|txt|woff2?)$/

/**
 * Serves the SvelteKit static build (adapter-static). Files are served as they are; any other
 * GET gets the fallback page `200.html`, so client-side routes (`/invite/<token>`, deep links,
 * offline reloads) boot the app instead of a 404. Every HTML response is that page, with a
 * Content-Security-Policy hashing its own inline bootstrap script, so the policy always matches
 * the build on disk (the SPA build has no other HTML page).
 */
export function mountWebApp(app: Hono, webRoot: string): void {
  const fallback = join(webRoot, '200.html')
  if (!existsSync(webRoot)) {
    app.get('*', async (c, next) => {
      if (SERVER_PATHS.test(c.req.path)) return next()
      return c.text('The web app is not built yet: run `pnpm build`, then restart the server.', 503)
    })
    return
  }
  // The build writes .br and .gz beside each file (adapter-static `precompress`): sent as they are.
  const files = serveStatic({ root: webRoot, precompressed: true })
  app.use('*', async (c, next) => {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || SERVER_PATHS.test(c.req.path) || c.req.path.endsWith('.html')) return next()
    // Set before serving: the file's response is built from the headers prepared so far. Assets
    // carry the page's policy too (sw.js runs under its own response's CSP). Hashed build files
    // never change under their name; anything else (sw.js, the manifest) is checked every time.
    c.header('Content-Security-Policy', webAppCsp())
    c.header('Cache-Control', IMMUTABLE_PATH.test(c.req.path) ? 'public, max-age=31536000, immutable' : 'no-cache')
    return files(c, next)
  })
  app.get('*', async (c, next) => {
    if (SERVER_PATHS.test(c.req.path)) return next()
    // A missing script or asset (an old page after a rebuild) must not come back as HTML with
    // 200: the browser would refuse it as the wrong type instead of reloading.
    if (ASSET_PATH.test(c.req.path)) {
      c.header('Cache-Control', 'no-store') // never remember a miss as an immutable file
      return c.text('Not found: this asset is not in the current build; reload the page.', 404)
    }
    // Read per request: a rebuild while the server runs must not leave a stale shell behind.
    const html = await readFile(fallback, 'utf8').catch(() => null)
    if (html === null) return c.text('The web app build has no 200.html fallback page; rebuild it.', 503)
    c.header('Content-Security-Policy', webAppCsp(html))
    c.header('Cache-Control', 'no-cache') // the shell names the current build's files
    return c.html(html)
  })
}
