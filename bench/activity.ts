// bench/activity: GET /api/activity (Mentions & reactions) for one member named in 100,000
// messages, with as many again naming others and @channel/@everyone now and then, across 20
// channels (the member in 15). The rows go into `messages`; the message_mentions triggers fill the
// index as they do for the relay's writes. Some mentions share a millisecond, so pages end on whole
// instants. Times the newest page, pages from random points in the history, and a walk of
// consecutive pages (p50/p99 each). Prints figures; asserts nothing.
// Run: npx tsx bench/activity.ts [mentions]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../agent-gateway/src/server.js'
import { seedChannel, seedPeople } from './lib/gateway-seed.js'
import { fmt, percentile } from './lib/stats.js'

const MENTIONS = Number(process.argv[2] ?? 100_000)
const BATCH = 10_000
const CHANNELS = 20
const MEMBER_OF = 15
const RUNS = 200

// Deterministic PRNG (mulberry32) so runs compare.
let seed = 7
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-activity-'))
const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null })
try {
  const { workspaceId, members } = await seedPeople(server, 10)
  const me = members[1]!
  const others = members.filter((m) => m !== me)
  const channels: string[] = []
  for (let i = 0; i < CHANNELS; i++) {
    channels.push(seedChannel(server, workspaceId, `c${i}`, i < MEMBER_OF ? members.map((m) => m.id) : others.map((m) => m.id)))
  }

  // ---- seeding: the triggers fill message_mentions -------------------------------------------
  const sqlite = server.gateway.db.$client
  const insert = sqlite.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
    VALUES (?, ?, ?, NULL, ?, ?, 0, ?, ?, '[]', '[]')`)
  // Twice as many messages as mentions of me: every other one names me (in my channels), the
  // rest someone else; one in 50 is @channel, one in 100 @everyone. Every third instant holds 3.
  const total = MENTIONS * 2
  const t0 = Date.now() - total * 10
  let at = t0
  let mine = 0
  const start = performance.now()
  for (let done = 0; done < total; ) {
    const n = Math.min(BATCH, total - done)
    sqlite.transaction(() => {
      for (let i = 0; i < n; i++) {
        const k = done + i
        if (k % 9 !== 1 && k % 9 !== 2) at += 10
        const namesMe = k % 2 === 0
        const conv = namesMe ? channels[Math.floor(rand() * MEMBER_OF)]! : channels[Math.floor(rand() * CHANNELS)]!
        const author = others[Math.floor(rand() * others.length)]!
        const target = k % 100 === 3 ? 'everyone' : k % 50 === 1 ? 'channel' : namesMe ? me.id : others[k % others.length]!.id
        if (namesMe) mine++
        insert.run(`msg_bench${k.toString(36).padStart(11, '0')}`, conv, `conv:${conv}:0`, author.id, at, `hello @${target}`, JSON.stringify([target]))
      }
    })()
    done += n
  }
  const rows = sqlite.prepare('SELECT count(*) FROM message_mentions').pluck().get() as number
  console.log(`seeded ${total.toLocaleString('en')} messages (${mine.toLocaleString('en')} naming @p1, ${rows.toLocaleString('en')} message_mentions rows by trigger) in ${((performance.now() - start) / 1000).toFixed(1)} s`)

  // ---- queries -----------------------------------------------------------------------------
  const get = async (before?: number) => {
    const t = performance.now()
    const res = await fetch(`${server.url}/api/activity${before ? `?before=${before}` : ''}`, { headers: { cookie: `cc_session=${me.cookie}` } })
    const body = (await res.json()) as { items?: Array<{ at: number }>; nextBefore?: number | null }
    if (res.status !== 200) throw new Error(`activity: ${res.status} ${JSON.stringify(body)}`)
    return { ms: performance.now() - t, items: body.items!.length, next: body.nextBefore ?? null }
  }
  const report = (label: string, times: number[], items: number) => {
    times.sort((a, b) => a - b)
    console.log(`${label.padEnd(34)} p50 ${fmt(percentile(times, 50)).padStart(9)}  p99 ${fmt(percentile(times, 99)).padStart(9)}  (${times.length} pages, ${(items / times.length).toFixed(1)} items each)`)
  }
  for (let i = 0; i < 10; i++) await get() // warm the page cache

  let times: number[] = []
  let items = 0
  for (let i = 0; i < RUNS; i++) {
    const r = await get()
    times.push(r.ms)
    items += r.items
  }
  report('newest page', times, items)

  times = []
  items = 0
  for (let i = 0; i < RUNS; i++) {
    const r = await get(t0 + Math.floor(rand() * (at - t0)))
    times.push(r.ms)
    items += r.items
  }
  report('a page from a random point', times, items)

  times = []
  items = 0
  let next: number | null | undefined
  for (let i = 0; i < RUNS && next !== null; i++) {
    const r = await get(next)
    times.push(r.ms)
    items += r.items
    next = r.next
  }
  report(`${times.length} consecutive pages (Show older)`, times, items)

  times = []
  items = 0
  for (let i = 0; i < RUNS; i++) {
    const r = await get(t0 + 1 + Math.floor(rand() * 5_000))
    times.push(r.ms)
    items += r.items
  }
  report('a page at the oldest end', times, items)
} finally {
  await server.close()
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0) // the agent runtime's timers would keep an idle process alive
