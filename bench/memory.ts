// bench/memory: what the server keeps in memory.
// 1. Heap per encoded byte of a live doc (the relay's Room.heapBytes estimate), in this process.
// 2. The server's RSS and JS heap (after a GC, through bench/lib/mem-report.mjs): idle on a
//    database with people only; then on one with `messages` of history (bench/lib/history.ts):
//    idle, with 20 people and 5 agents connected over y-websocket across 5 channels (each person
//    on their me doc, the directory and 3 channels' live segments; each agent on 2 channels),
//    after a load (every person and agent posts over sync, and SCROLL old segments of the big
//    channel are opened and closed as scrolling back does), every 15 s while sealed segments
//    have their idle time, and with everyone gone.
// Run: npx tsx bench/memory.ts [messages]   (default 1000000; POSTS=50 SCROLL=100; MODE=node runs
// the build, agent-gateway/dist, which needs `pnpm build:server`; MODE=tsx the sources;
// SERVER_MMAP_THRESHOLD= (empty) runs the server with glibc's default)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import {
  addComment, appendMessage, createTask, docName, initBoard, initSegment, markRead, positionBetween, sealSegment, DEFAULT_SEGMENT_SIZE
} from '@circlechat/model'
import { Room } from '../sync-server/src/room.js'
import { syncClient, whenSynced } from '../agent-gateway/src/test/sync-client.js'
import { seedHistory, seedPeople } from './lib/history.js'
import { freePort } from './lib/stats.js'

if (!globalThis.gc) {
  // Heap figures need a GC first: run again with it exposed (tsx's own flags kept).
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}
const gc = globalThis.gc
process.setMaxListeners(0) // each y-websocket provider listens for the process's exit

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const POSTS = Number(process.env.POSTS ?? 50)
const SCROLL = Number(process.env.SCROLL ?? 100)
const MODE = process.env.MODE ?? 'node'
/** As `npm start`, the image and the Pi unit run the server (docs/decisions.md "Memory bounds"). */
const MMAP_THRESHOLD = process.env.SERVER_MMAP_THRESHOLD ?? '65536'
const root = join(import.meta.dirname, '..')
const MiB = (b: number) => (b / 1024 / 1024).toFixed(1)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- 1. heap per encoded byte --------------------------------------------------------------

function segment(oneUpdateEach: boolean): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  if (oneUpdateEach) doc.on('update', (u: Uint8Array) => out.push(u))
  initSegment(doc, 'c_aaaaaaaaaaaaaaaa', 0)
  for (let i = 0; i < DEFAULT_SEGMENT_SIZE; i++) appendMessage(doc, { author: 'm_aaaaaaaaaaaaaaaa', body: `message ${i}: ${'status update text '.repeat(3)}`, createdAt: Date.now() + i })
  sealSegment(doc)
  return oneUpdateEach ? out : [Y.encodeStateAsUpdate(doc)]
}

function board(): Uint8Array[] {
  const doc = new Y.Doc()
  initBoard(doc, { conversationId: 'c_aaaaaaaaaaaaaaaa', workspaceId: 'w_aaaaaaaaaaaaaaaa' })
  let position: string | null = null
  for (let i = 0; i < 200; i++) {
    position = positionBetween(position, null)
    const taskId = createTask(doc, { createdBy: 'm_aaaaaaaaaaaaaaaa', title: `Task ${i}: a card title of ordinary length`, description: `Notes for task ${i}.`, status: 'backlog', position })
    for (let j = 0; j < 3; j++) addComment(doc, { taskId, author: 'm_aaaaaaaaaaaaaaaa', body: `comment ${j} on task ${i}` })
  }
  return [Y.encodeStateAsUpdate(doc)]
}

function meDoc(): Uint8Array[] {
  const doc = new Y.Doc()
  for (let i = 0; i < 20; i++) markRead(doc, `c_${String(i).padStart(16, 'a')}`, Date.now())
  return [Y.encodeStateAsUpdate(doc)]
}

function heapOf(label: string, kind: 'conv' | 'board' | 'me', updates: Uint8Array[], copies = 20) {
  const bytes = updates.reduce((s, u) => s + u.byteLength, 0)
  const parsed = kind === 'conv' ? { kind, conversationId: 'c_aaaaaaaaaaaaaaaa', segment: 0 } : kind === 'board' ? { kind, conversationId: 'c_aaaaaaaaaaaaaaaa' } : { kind, memberId: 'm_aaaaaaaaaaaaaaaa' }
  gc()
  const before = process.memoryUsage().heapUsed
  const rooms: Room[] = []
  for (let k = 0; k < copies; k++) {
    const room = new Room('bench', parsed as never, null)
    room.doc.transact(() => { for (const u of updates) Y.applyUpdate(room.doc, u) })
    room.encodedBytes = bytes
    rooms.push(room)
  }
  gc()
  const each = (process.memoryUsage().heapUsed - before) / copies
  const ratio = bytes > 0 ? `, ${(each / bytes).toFixed(1)}× encoded` : ''
  console.log(`  ${label}: ${(bytes / 1000).toFixed(1)} KB encoded in ${updates.length} updates → ${(each / 1024).toFixed(0)} KiB heap each${ratio} (estimate ${(rooms[0]!.heapBytes / 1024).toFixed(0)} KiB)`)
  for (const r of rooms) r.doc.destroy()
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs; server: ${MODE}, MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD || '(glibc default)'}`)
console.log('heap of a live doc (20 copies, after a GC):')
heapOf('empty room', 'me', [])
heapOf('me doc, 20 read markers', 'me', meDoc())
heapOf('1,000-message segment, one snapshot', 'conv', segment(false))
heapOf('1,000-message segment, one update per message', 'conv', segment(true))
heapOf('board, 200 tasks × 3 comments', 'board', board())

// ---- 2. the server -------------------------------------------------------------------------

interface Mem { rss: number; pss: number; anonymous: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; spaces: Record<string, number> }

const entry = MODE === 'node' ? ['--conditions=circlechat-built', 'agent-gateway/dist/main.mjs'] : ['--import', 'tsx', 'agent-gateway/src/main.ts']

function serverEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_MMAP_THRESHOLD_: MMAP_THRESHOLD, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' }
  if (!MMAP_THRESHOLD) delete env.MALLOC_MMAP_THRESHOLD_ // empty would mean 0 to glibc: every block mapped
  return env
}

async function startServer(dataDir: string) {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', pathToFileURL(join(import.meta.dirname, 'lib/mem-report.mjs')).href, ...entry], {
    cwd: root, env: serverEnv(dataDir, port), stdio: ['pipe', 'ignore', 'inherit', 'pipe']
  })
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    if (tries > 3000 || child.exitCode !== null) throw new Error('the server did not answer /health')
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break
    await sleep(10)
  }
  const reports = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream })
  const report = () => new Promise<Mem>((resolve) => {
    reports.once('line', (line) => {
      // RSS, PSS (shared pages of node and its libraries split among the processes mapping
      // them) and anonymous memory (heap, malloc, SQLite's cache), read at one time.
      const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8')
      const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) * 1024
      resolve({ ...(JSON.parse(line) as Mem), rss: kib('Rss'), pss: kib('Pss'), anonymous: kib('Anonymous') })
    })
    child.stdin!.write('mem\n')
  })
  const stop = async () => {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
  return { url, report, stop }
}

function print(what: string, m: Mem) {
  const s = m.spaces
  console.log(`  ${what}: RSS ${MiB(m.rss)} MiB (PSS ${MiB(m.pss)}, anonymous ${MiB(m.anonymous)}), heap used ${MiB(m.heapUsed)} of ${MiB(m.heapTotal)} MiB (old ${MiB(s.old_space ?? 0)}, new ${MiB(s.new_space ?? 0)}, code ${MiB(s.code_space ?? 0)}, large ${MiB(s.large_object_space ?? 0)}), external ${MiB(m.external)} MiB`)
}

async function api(url: string, cookie: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, { method, headers: { origin: url, cookie: `cc_session=${cookie}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<any>
}

const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-memory-'))
const info = await seedPeople(dataDir, 20)
const humans = info.members
const admin = humans[0]!.cookie

// 20 people: everyone in the seeded channel (which gets the history), each in 2 of 4 more.
let server = await startServer(dataDir)
const me = await api(server.url, admin, 'GET', '/api/me')
const workspaceId = me.workspace.id as string
const channels = [info.conversationId]
for (let c = 0; c < 4; c++) {
  const memberIds = humans.filter((_, i) => i % 4 === c || (i + 1) % 4 === c).map((h) => h.id).filter((id) => id !== humans[0]!.id)
  channels.push((await api(server.url, admin, 'POST', '/api/conversations', { kind: 'channel', name: `room-${c}`, memberIds })).conversation.id)
}
const agents: Array<{ memberId: string; token: string; channels: string[] }> = []
for (let a = 0; a < 5; a++) {
  const mine = [info.conversationId, channels[1 + (a % 4)]!]
  const res = await api(server.url, admin, 'POST', '/api/agents', { name: `helper${a}`, handle: `helper${a}`, adapter: 'socket', channelIds: mine })
  agents.push({ memberId: res.memberId, token: res.botToken, channels: mine })
}
const channelsOf = (i: number) => [info.conversationId, channels[1 + (i % 4)]!, channels[1 + ((i + 1) % 4)]!]
await sleep(2000)
console.log(`server, ${humans.length} people, ${agents.length} agents, ${channels.length} channels, no messages:`)
print('idle', await server.report())
await server.stop()

if (TOTAL > 0) seedHistory(dataDir, { ...info, url: server.url }, TOTAL, 2)
const liveOf = (conv: string) => (conv === info.conversationId ? Math.floor(TOTAL / DEFAULT_SEGMENT_SIZE) : 0)

server = await startServer(dataDir)
await sleep(2000)
console.log(`server with ${TOTAL.toLocaleString('en')} messages stored:`)
print('idle', await server.report())

const providers: WebsocketProvider[] = []
function open(name: string, auth: { cookie: string } | { token: string }) {
  const p = 'cookie' in auth ? syncClient(server.url, auth.cookie, name) : botSync(name, auth.token)
  providers.push(p)
  return p
}
/** An agent on sync: its bot token in the URL (no cookie, so no Origin check). */
function botSync(name: string, token: string): WebsocketProvider {
  const p = new WebsocketProvider(`${server.url.replace('http', 'ws')}/sync`, name, new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token } })
  p.messageHandlers[100] = () => {}
  p.messageHandlers[101] = () => {}
  return p
}

const t0 = performance.now()
const posting: Array<{ doc: Y.Doc; author: string }> = []
for (const [i, h] of humans.entries()) {
  open(docName.me(h.id), { cookie: h.cookie })
  open(docName.dir(workspaceId), { cookie: h.cookie })
  for (const conv of channelsOf(i)) posting.push({ doc: open(docName.conv(conv, liveOf(conv)), { cookie: h.cookie }).doc, author: h.id })
}
for (const a of agents) for (const conv of a.channels) posting.push({ doc: open(docName.conv(conv, liveOf(conv)), { token: a.token }).doc, author: a.memberId })
await Promise.all(providers.map(whenSynced))
console.log(`  ${providers.length} sockets synced in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
await sleep(3000)
print(`${humans.length} people + ${agents.length} agents connected, idle`, await server.report())

// Load: every socket on a channel posts POSTS / 3 messages over sync (within the relay's rate
// limits), while old segments of the big channel are opened and closed.
const t1 = performance.now()
const perSocket = Math.ceil(POSTS / 3)
const posts = Promise.all(posting.map(async ({ doc, author }) => {
  for (let k = 0; k < perSocket; k++) {
    appendMessage(doc, { author, body: `load ${k} from ${author}: ${'a line of ordinary chat '.repeat(2)}` })
    await sleep(300)
  }
}))
const scroll = (async () => {
  const live = liveOf(info.conversationId)
  for (let s = live - 1; s >= Math.max(0, live - SCROLL); s -= 4) {
    await Promise.all([0, 1, 2, 3].filter((k) => s - k >= 0).map(async (k) => {
      const p = syncClient(server.url, humans[(s - k) % humans.length]!.cookie, docName.conv(info.conversationId, s - k))
      await whenSynced(p)
      p.destroy()
    }))
  }
})()
await Promise.all([posts, scroll])
await sleep(1000)
console.log(`  load: ${posting.length * perSocket} messages posted over sync and ${Math.min(SCROLL, liveOf(info.conversationId))} old segments opened and closed in ${((performance.now() - t1) / 1000).toFixed(1)} s`)
print('after the load', await server.report())
// Sealed segments are unloaded 30 s after their last use; then V8 and malloc give memory back.
for (let t = 15; t <= 75; t += 15) {
  await sleep(15_000)
  print(`${t} s later`, await server.report())
}
for (const p of providers) p.destroy()
await sleep(3000)
print('everyone disconnected', await server.report())
await server.stop()
process.exit(0)
