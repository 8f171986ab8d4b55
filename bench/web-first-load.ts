// bench/web-first-load: what the first page costs, and how fast the app shell opens from the
// service worker's cache. Signs up (the first account), then in a fresh signed-in browser with
// the service worker allowed opens a deep link /c/<general> first: JS and CSS of that first page
// (gzip -9 of each decoded body, and the bytes on the wire); then, once the worker is active,
// RUNS reloads with the network on and RUNS with it off: time from navigation to the sidebar
// (the app shell) and to the composer, every asset from the worker's cache.
// Real one-process server and web build (apps/web/build) on loopback; Chromium (playwright-core).
// Run: npx tsx bench/web-first-load.ts   (RUNS=5; needs `pnpm --filter @circlechat/web build`)
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { DEFAULT_WEB_ROOT, startServer } from '../agent-gateway/src/server.js'
import { launchBrowser, newPerson } from '../apps/web/e2e/support/browser.js'
import { signUpFirst } from '../apps/web/e2e/support/people.js'
import { percentile } from './lib/stats.js'

const runs = Number(process.env.RUNS ?? 5)
if (!existsSync(join(DEFAULT_WEB_ROOT, '200.html'))) throw new Error(`No web build at ${DEFAULT_WEB_ROOT}: run \`pnpm --filter @circlechat/web build\` first.`)
const dataDir = mkdtempSync(join(tmpdir(), 'cc-first-load-'))
const log = console.log
console.log = () => {} // the server's own lines
const server = await startServer({ dataDir, port: 0, host: '127.0.0.1' })
const browser = await launchBrowser()

const admin = await newPerson(browser, server.url)
await signUpFirst(admin.page)
const general = new URL(admin.page.url()).pathname
const state = await admin.context.storageState()
await admin.context.close()

const { context, page: first } = await newPerson(browser, server.url, { serviceWorkers: 'allow', storageState: state })
const assets: { kind: 'js' | 'css'; url: string; wire: number; gzip: number }[] = []
const pending: Promise<void>[] = []
const seen = new Set<string>()
const onFirst = (res: import('playwright-core').Response) => {
  const type = res.request().resourceType()
  const kind = type === 'script' ? 'js' : type === 'stylesheet' ? 'css' : null
  // The page's own requests: not the worker's install fetching its precache list.
  if (!kind || res.request().serviceWorker() || seen.has(res.url())) return
  seen.add(res.url())
  pending.push(
    (async () => {
      const body = await res.body().catch(() => null)
      const sizes = await res.request().sizes().catch(() => null)
      if (body) assets.push({ kind, url: res.url(), wire: sizes && sizes.responseBodySize >= 0 ? sizes.responseBodySize : body.byteLength, gzip: gzipSync(body, { level: 9 }).byteLength })
    })()
  )
}
first.on('response', onFirst)
await first.goto(general)
await first.locator('[data-testid=composer]').waitFor()
await first.waitForLoadState('networkidle')
first.off('response', onFirst)
await Promise.all(pending)
const sw = await first.evaluate(async () => {
  const reg = await navigator.serviceWorker.ready
  return { scope: reg.scope, script: reg.active?.scriptURL ?? '' }
})
const precached = await first.evaluate(async () => {
  let n = 0
  for (const key of await caches.keys()) n += (await (await caches.open(key)).keys()).length
  return n
})

async function timeShell(page: Page): Promise<{ shell: number; composer: number; fromWorker: number; total: number }> {
  let fromWorker = 0
  let total = 0
  const count = (res: { fromServiceWorker(): boolean }) => {
    total++
    if (res.fromServiceWorker()) fromWorker++
  }
  page.on('response', count)
  const t0 = Date.now()
  await page.reload({ waitUntil: 'commit' })
  await page.locator('[data-testid=sidebar]').first().waitFor()
  const shell = Date.now() - t0
  await page.locator('[data-testid=composer]').waitFor()
  const composer = Date.now() - t0
  page.off('response', count)
  return { shell, composer, fromWorker, total }
}

const online: Awaited<ReturnType<typeof timeShell>>[] = []
const offline: Awaited<ReturnType<typeof timeShell>>[] = []
for (let i = 0; i < runs; i++) online.push(await timeShell(first))
await context.setOffline(true)
for (let i = 0; i < runs; i++) offline.push(await timeShell(first))
await context.setOffline(false)

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`
const sum = (kind: 'js' | 'css', key: 'gzip' | 'wire') => assets.filter((a) => a.kind === kind).reduce((n, a) => n + a[key], 0)
const ms = (xs: number[]) => `${percentile([...xs].sort((a, b) => a - b), 50).toFixed(0)} ms median of ${xs.length} (${xs.map((x) => x.toFixed(0)).join(', ')})`
const load = loadavg().map((x) => x.toFixed(1)).join(' ')
log(`first page ${general} (deep link, signed in, nothing cached); load average ${load} on ${cpus().length} CPUs`)
log(`  JS:  ${assets.filter((a) => a.kind === 'js').length} files, ${kb(sum('js', 'gzip'))} gzip -9 (${kb(sum('js', 'wire'))} on the wire, brotli)`)
log(`  CSS: ${assets.filter((a) => a.kind === 'css').length} files, ${kb(sum('css', 'gzip'))} gzip -9 (${kb(sum('css', 'wire'))} on the wire, brotli)`)
log(`service worker ${sw.script} scope ${sw.scope}; ${precached} entries precached`)
log(`reload, network on:  app shell (sidebar) ${ms(online.map((r) => r.shell))}; composer ${ms(online.map((r) => r.composer))}; ${online[0]!.fromWorker}/${online[0]!.total} responses from the worker`)
log(`reload, network off: app shell (sidebar) ${ms(offline.map((r) => r.shell))}; composer ${ms(offline.map((r) => r.composer))}; ${offline[0]!.fromWorker}/${offline[0]!.total} responses from the worker`)

await browser.close()
await server.close()
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
