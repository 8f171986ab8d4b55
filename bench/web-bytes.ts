// bench/web-bytes: what the web app costs a browser. JS and CSS bytes for the sign-up page and
// for the workspace after the first sign-up (brotli as Chromium negotiates it, decoded, and gzip -9
// of each decoded body, to compare with the goal of ≤ 120 KB of JS gzip before the workspace
// shows, split into the pages' static imports and the dynamic ones fetched alongside); then time to
// the sidebar and to the newest of 1,000 messages, cold, from cache (reload) and switching to it in
// the tab, and how many elements that channel's message list holds.
// Real one-process server and web build (apps/web/build) on loopback; Chromium through CDP.
// Run: npx tsx bench/web-bytes.ts [messages] [web dir…]: each web dir is an apps/web after a build
// (its build/ and .svelte-kit/output), default apps/web; several are measured one after the other
// in one run (e.g. a copy of the build before a change, then the build after it).
// WEB_PROFILE=1 also prints where the first run's first switch spent its CPU (CDP Profiler,
// self time by function, top 15).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { BrowserContext, CDPSession, Page } from 'playwright-core'
import { DEFAULT_WEB_ROOT, startServer } from '../agent-gateway/src/server.js'
import { launchBrowser } from '../apps/web/e2e/support/browser.js'

const messages = Number(process.argv[2] ?? 1000)
const webDirs = process.argv.length > 3 ? process.argv.slice(3).map((d) => resolve(d)) : [resolve(DEFAULT_WEB_ROOT, '..')]
const runs = 5 // the machine is shared: a median of a few runs

for (const dir of webDirs) if (!existsSync(join(dir, 'build/200.html'))) throw new Error(`No web build in ${dir}: run \`pnpm --filter @circlechat/web build\` first.`)
const log = console.log
console.log = () => {} // the server's invite links and the like
const browser = await launchBrowser()

interface Resource { kind: 'js' | 'css' | 'other'; url: string; encoding: string; wire: number; headers: number; decoded: number; gzip: number; cached: boolean; done: boolean }

/** Every response of one page, from CDP Network events; bodies fetched as each one finishes. */
class Tracker {
  readonly byId = new Map<string, Resource>()
  /** Ids in the order the page asked for them, so a cut-off can include requests still in flight. */
  readonly requested: string[] = []
  private readonly headerBytes = new Map<string, number>()
  private readonly fromCache = new Set<string>()
  private readonly pending: Promise<void>[] = []
  private constructor(private readonly cdp: CDPSession) {}

  static async attach(page: Page): Promise<Tracker> {
    const cdp = await page.context().newCDPSession(page)
    const t = new Tracker(cdp)
    cdp.on('Network.requestWillBeSent', (e) => { if (!t.requested.includes(e.requestId)) t.requested.push(e.requestId) })
    // Sent before responseReceived, so remembered by id.
    cdp.on('Network.requestServedFromCache', (e) => { t.fromCache.add(e.requestId) })
    cdp.on('Network.responseReceivedExtraInfo', (e) => { t.headerBytes.set(e.requestId, e.headersText?.length ?? 0) })
    cdp.on('Network.responseReceived', (e) => {
      const mime = e.response.mimeType
      const kind = /javascript|ecmascript/.test(mime) ? 'js' : mime === 'text/css' ? 'css' : 'other'
      const enc = Object.entries(e.response.headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1] ?? 'identity'
      t.byId.set(e.requestId, { kind, url: e.response.url, encoding: enc, wire: 0, headers: 0, decoded: 0, gzip: 0, cached: t.fromCache.has(e.requestId) || e.response.fromDiskCache === true || e.response.fromPrefetchCache === true, done: false })
    })
    cdp.on('Network.loadingFinished', (e) => {
      const r = t.byId.get(e.requestId)
      if (!r) return
      r.wire = e.encodedDataLength
      if (r.kind === 'other') { r.done = true; return }
      t.pending.push(cdp.send('Network.getResponseBody', { requestId: e.requestId }).then((b) => {
        const body = Buffer.from(b.body, b.base64Encoded ? 'base64' : 'utf8')
        r.decoded = body.byteLength
        r.gzip = gzipSync(body, { level: 9 }).byteLength
        r.done = true
      }, () => { r.done = true }))
    })
    // Cache stays enabled (no Network.setCacheDisabled): the reload is meant to hit it.
    await cdp.send('Network.enable', {})
    return t
  }

  /** The resources of the first `upTo` requests (default: all so far), once they have finished. */
  async snapshot(upTo = this.requested.length): Promise<Resource[]> {
    const ids = this.requested.slice(0, upTo)
    const deadline = Date.now() + 10_000
    const settled = () => ids.every((id) => this.byId.get(id)?.done === true)
    while (!settled() && Date.now() < deadline) await sleep(20)
    await Promise.all(this.pending)
    // Raw header sizes can come after loadingFinished, so they are read only now.
    for (const id of ids) { const r = this.byId.get(id); if (r) r.headers = Math.min(this.headerBytes.get(id) ?? 0, r.wire) }
    return ids.flatMap((id) => this.byId.get(id) ?? [])
  }

  detach() { return this.cdp.detach() }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`

function report(label: string, rs: Resource[]) {
  const other = rs.filter((r) => r.kind === 'other')
  const otherText = `${label}, other (HTML, API, icons): ${other.length} request${other.length === 1 ? '' : 's'}, ${kb(other.reduce((a, r) => a + r.wire, 0))} on the wire`
  for (const kind of ['js', 'css'] as const) {
    const of = rs.filter((r) => r.kind === kind)
    const sum = (f: (r: Resource) => number) => of.reduce((a, r) => a + f(r), 0)
    const encs = [...new Set(of.map((r) => r.encoding))].join('/') || '-'
    const cached = of.filter((r) => r.cached).length
    if (!of.length) { log(`${label}, ${kind.toUpperCase()}: 0 requests`); continue }
    log(`${label}, ${kind.toUpperCase()}: ${of.length} request${of.length === 1 ? '' : 's'}${cached ? ` (${cached} from cache)` : ''}, ${kb(sum((r) => r.wire - r.headers))} ${encs} bodies (${kb(sum((r) => r.wire))} on the wire with headers), ${kb(sum((r) => r.decoded))} decoded, ${kb(sum((r) => r.gzip))} gzip -9`)
  }
  log(otherText)
}

const since = (all: Resource[], before: Resource[]) => { const seen = new Set(before); return all.filter((r) => !seen.has(r)) }

// Which requested chunks the shown pages import statically (what painting them needs) and which
// are dynamic imports fetched alongside (message rows, markdown, the recorder…), from the build's
// manifest: the entries and route nodes requested, and everything they import statically.
type Manifest = Record<string, { file: string; imports?: string[]; isEntry?: boolean }>
const fileOf = (r: Resource) => new URL(r.url).pathname.slice(1)
function staticPart(manifest: Manifest, rs: Resource[]): Resource[] {
  const keyByFile = new Map(Object.entries(manifest).map(([k, v]) => [v.file, k]))
  const closure = new Set<string>()
  const stack = rs.flatMap((r) => { const k = keyByFile.get(fileOf(r)); return k && manifest[k]!.isEntry ? [k] : [] })
  for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
    if (closure.has(k)) continue
    closure.add(k)
    stack.push(...(manifest[k]!.imports ?? []))
  }
  const files = new Set([...closure].map((k) => manifest[k]!.file))
  return rs.filter((r) => r.kind !== 'js' || files.has(fileOf(r)))
}

/** Starts the CDP sampling profiler; the function returned stops it and gives the top functions by self time. */
async function startProfile(p: Page): Promise<() => Promise<string>> {
  const cdp = await p.context().newCDPSession(p)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  await cdp.send('Profiler.start')
  return async () => {
    const { profile } = await cdp.send('Profiler.stop')
    await cdp.detach()
    const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
    const self = new Map<string, number>()
    const deltas = profile.timeDeltas ?? []
    ;(profile.samples ?? []).forEach((id, i) => {
      const f = byNode.get(id)!.callFrame
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`
      self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? 0) / 1000)
    })
    return [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `  ${v.toFixed(1).padStart(6)} ms  ${k}`).join('\n')
  }
}

/** Everything below, against the build in `webDir`, with a server and data directory of its own. */
async function benchBuild(webDir: string) {
  const manifest = JSON.parse(readFileSync(join(webDir, '.svelte-kit/output/client/.vite/manifest.json'), 'utf8')) as Manifest
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-web-bytes-'))
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: join(webDir, 'build') })
  log(`web build: ${webDir}`)
  // 1. The sign-up page a fresh server shows first, until its network is quiet. The service worker
  // is blocked: its precache would fetch every chunk and blur what the page itself needs.
  const first: BrowserContext = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' })
  const page = await first.newPage()
  const tracker = await Tracker.attach(page)
  await page.goto('/signup', { waitUntil: 'networkidle' })
  await page.locator('[data-testid=signup-submit]').waitFor()
  const loginRs = await tracker.snapshot()
  report('sign-up page', loginRs)

  // 2. Sign up (creates the workspace): counted up to #general in the sidebar, then 2 s more of
  // lazy chunks (those do not hold up the workspace).
  await page.locator('[data-testid=signup-workspace]').fill('Acme')
  await page.locator('[data-testid=signup-name]').fill('Ada Lovelace')
  await page.locator('[data-testid=signup-email]').fill('ada@example.com')
  await page.locator('[data-testid=signup-password]').fill('correct horse battery')
  await page.locator('[data-testid=signup-submit]').click()
  await page.locator('[data-testid=sidebar-channel]', { hasText: 'general' }).waitFor()
  const shownRs = await tracker.snapshot(tracker.requested.length)
  report('workspace shown, cumulative', shownRs)
  report('workspace shown, after the sign-up page', since(shownRs, loginRs))
  await sleep(2000)
  const settledRs = await tracker.snapshot()
  report('within 2 s after it showed', since(settledRs, shownRs))
  const shellRs = staticPart(manifest, shownRs)
  report('workspace shown, the pages\' static imports (sign-up page included)', shellRs)
  report('workspace shown, dynamic imports fetched alongside', shownRs.filter((r) => !shellRs.includes(r)))
  const goalJs = shellRs.filter((r) => r.kind === 'js').reduce((a, r) => a + r.gzip, 0)
  log(`goal ≤ 120 KB JS gzip before the workspace shows (its static imports): ${kb(goalJs)} (${goalJs <= 120_000 ? 'within' : 'over'})`)
  await tracker.detach()

  // Seed a channel of `messages` through REST with the session from the sign-up, 32 in flight.
  const cookies = await first.cookies()
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  const api = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url, cookie }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`)
    return res.json() as Promise<Record<string, { id: string }>>
  }
  const conv = (await api('/conversations', { kind: 'channel', name: 'history' })).conversation!.id
  const t0 = performance.now()
  let next = 1
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i <= messages; i = next++) await api(`/conversations/${conv}/messages`, { bodyMd: `history ${i}/${messages}: a status update of typical length for a chat message` })
  }))
  log(`seeded ${messages} messages in #history over REST in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  await first.close()

  // 3. Open #history: cold (a new context: empty HTTP cache and IndexedDB), then a reload of the
  // same context (HTTP cache and local docs warm). Times are the page's performance.now(), i.e.
  // from navigation start, sampled every frame.
  const newest = `history ${messages}/${messages}:`
  // Functions, not strings: the app's CSP forbids eval.
  const sidebarAt = (p: Page) => p.waitForFunction(() => {
    const el = document.querySelector('[data-testid=sidebar-channel]')
    return el && el.checkVisibility() ? performance.now() : false
  }, undefined, { polling: 'raf', timeout: 30_000 }).then((h) => h.jsonValue() as Promise<number>)
  const newestAt = (p: Page) => p.waitForFunction((text) => {
    for (const el of document.querySelectorAll('[data-testid=message]')) if (el.textContent?.includes(text) && el.checkVisibility()) return performance.now()
    return false
  }, newest, { polling: 'raf', timeout: 30_000 }).then((h) => h.jsonValue() as Promise<number>)

  /** Elements in the message list and message rows rendered, once the newest is shown. */
  const listNodes = (p: Page) => p.evaluate(() => {
    const list = document.querySelector('[data-testid=message-list]')
    return { nodes: list?.querySelectorAll('*').length ?? 0, rows: list?.querySelectorAll('[data-testid=message]').length ?? 0, page: document.querySelectorAll('*').length }
  })

  /** Clicks a sidebar channel: ms from the page's pointerdown (the event's own time, not the automation's round trip) to the newest message. */
  const clickToNewest = async (p: Page, channel: string) => {
    await p.evaluate(() => document.addEventListener('pointerdown', (e) => { document.body.dataset.clickAt = String(e.timeStamp) }, { capture: true, once: true }))
    await p.locator('[data-testid=sidebar-channel]', { hasText: channel }).click()
    const at = await newestAt(p)
    return at - Number(await p.evaluate(() => document.body.dataset.clickAt))
  }
  const toGeneral = async (p: Page) => {
    await p.locator('[data-testid=sidebar-channel]', { hasText: 'general' }).click()
    await p.locator(`[data-testid=conversation]:not([data-id="${conv}"]) [data-testid=message-list]`).waitFor()
  }

  const times = { cold: { sidebar: [] as number[], newest: [] as number[] }, cache: { sidebar: [] as number[], newest: [] as number[] }, switched: [] as number[], firstSwitch: [] as number[] }
  let dom = { nodes: 0, rows: 0, page: 0 }
  let coldRs: Resource[] = []
  let cacheRs: Resource[] = []
  for (let run = 0; run < runs; run++) {
    const ctx = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' })
    await ctx.addCookies(cookies)
    const p = await ctx.newPage()
    for (const mode of ['cold', 'cache'] as const) {
      const t = await Tracker.attach(p)
      await (mode === 'cold' ? p.goto(`/c/${conv}`, { waitUntil: 'commit' }) : p.reload({ waitUntil: 'commit' }))
      const [sidebar, msg] = await Promise.all([sidebarAt(p), newestAt(p)])
      times[mode].sidebar.push(sidebar)
      times[mode].newest.push(msg)
      const rs = await t.snapshot()
      if (run === 0) { if (mode === 'cold') coldRs = rs; else cacheRs = rs }
      if (run === 0 && mode === 'cold') dom = await listNodes(p)
      await t.detach()
    }
    // Switching in the tab: to #general, then back to #history (its docs kept open since).
    await toGeneral(p)
    times.switched.push(await clickToNewest(p, 'history'))
    // The first switch in a fresh tab: reload on #general, then #history from IndexedDB alone.
    await toGeneral(p)
    await p.reload()
    await sidebarAt(p)
    await p.locator('[data-testid=conversation] [data-testid=message-list]').waitFor()
    const profiler = run === 0 && process.env.WEB_PROFILE ? await startProfile(p) : null
    times.firstSwitch.push(await clickToNewest(p, 'history'))
    if (profiler) log(`first switch, CPU self time by function:\n${await profiler()}`)
    await ctx.close()
  }
  // Times swing with whatever else the machine runs; the load says how much to trust them.
  log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms median of ${xs.length} (${xs.map((x) => x.toFixed(0)).join(', ')})`
  log(`cold, to the sidebar: ${ms(times.cold.sidebar)}`)
  log(`cold, to the newest of ${messages} messages: ${ms(times.cold.newest)}`)
  log(`from cache (reload), to the sidebar: ${ms(times.cache.sidebar)}`)
  log(`from cache (reload), to the newest of ${messages} messages: ${ms(times.cache.newest)}`)
  log(`switch from #general back to #history (in the tab), click to the newest of ${messages} messages: ${ms(times.switched)}`)
  log(`first switch to #history in a tab (from IndexedDB), click to the newest of ${messages} messages: ${ms(times.firstSwitch)}`)
  log(`#history open (${messages} messages): ${dom.rows} message rows and ${dom.nodes} elements in the message list, ${dom.page} in the page`)
  report('cold open of #history', coldRs)
  report('cold open of #history, the page\'s static imports', staticPart(manifest, coldRs))
  log(`cold open of #history: ${kb(staticPart(manifest, coldRs).filter((r) => r.kind === 'js').reduce((a, r) => a + r.gzip, 0))} JS gzip before the workspace shows (its static imports)`)
  report('reload of #history', cacheRs)

  await server.close()
  rmSync(dataDir, { recursive: true, force: true })
}

for (const dir of webDirs) await benchBuild(dir)
await browser.close()
process.exit(0)

