// bench/search: indexes 1,000,000 messages through the `messages` table (FTS5 kept in step by
// its triggers, as the relay's writes are), prints the catch-up rate, then times GET /api/search
// for a member of 150 of 200 conversations over a mix of common, mid, rare, two-word and
// prefix queries (p50/p99 per kind). Prints figures; asserts nothing.
// Run: npx tsx bench/search.ts [messages]
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../agent-gateway/src/server.js'
import { seedChannel, seedPeople } from './lib/gateway-seed.js'
import { fmt, percentile } from './lib/stats.js'
import { pick, rand, VOCAB, word } from './lib/zipf-words.js'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const BATCH = 10_000
const CONVERSATIONS = 200
const MEMBER_OF = 150

const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-search-'))
const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null })
try {
  const { workspaceId, members } = await seedPeople(server, 20)
  const searcher = members[0]!
  const convs: string[] = []
  for (let i = 0; i < CONVERSATIONS; i++) {
    const others = members.slice(1).filter(() => rand() < 0.5).map((m) => m.id)
    const ids = i < MEMBER_OF ? [searcher.id, ...others] : others.length ? others : [members[1]!.id]
    convs.push(seedChannel(server, workspaceId, `c${i}`, ids, i >= MEMBER_OF))
  }

  // ---- indexing ----------------------------------------------------------------------------
  const sqlite = server.gateway.db.$client
  const insert = sqlite.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
    VALUES (?, ?, ?, NULL, ?, ?, 0, ?, '[]', '[]', '[]')`)
  const start = performance.now()
  let lap = start
  let lapDone = 0
  const t0 = Date.now() - TOTAL * 10
  for (let done = 0; done < TOTAL; ) {
    const n = Math.min(BATCH, TOTAL - done)
    sqlite.transaction(() => {
      for (let i = 0; i < n; i++) {
        const k = done + i
        const conv = convs[k % CONVERSATIONS]!
        const body = Array.from({ length: 5 + Math.floor(rand() * 20) }, word).join(' ')
        insert.run(`msg_bench${k.toString(36).padStart(11, '0')}`, conv, `conv:${conv}:0`, members[k % members.length]!.id, t0 + k * 10, body)
      }
    })()
    done += n
    if (done % 200_000 === 0 || done === TOTAL) {
      const now = performance.now()
      console.log(`indexed ${done.toLocaleString('en')}: ${Math.round((done - lapDone) / ((now - lap) / 1000)).toLocaleString('en')} msg/s since the previous line`)
      lap = now
      lapDone = done
    }
  }
  const secs = (performance.now() - start) / 1000
  console.log(`index catch-up: ${TOTAL.toLocaleString('en')} messages in ${secs.toFixed(1)} s = ${Math.round(TOTAL / secs).toLocaleString('en')} msg/s (batches of ${BATCH.toLocaleString('en')}, FTS5 triggers, synchronous=FULL)`)
  console.log(`database: ${(statSync(join(dataDir, 'circlechat.db')).size / 2 ** 20).toFixed(0)} MiB (+ WAL ${(statSync(join(dataDir, 'circlechat.db-wal')).size / 2 ** 20).toFixed(0)} MiB)`)

  // ---- queries -----------------------------------------------------------------------------
  const kinds: Record<string, () => string> = {
    'common word (rank 1-20)': () => pick(0, 20),
    'mid word (rank 100-1000)': () => pick(100, 1000),
    'rare word (rank 5k-20k)': () => pick(5000, VOCAB),
    'two words (common + mid)': () => `${pick(0, 50)} ${pick(100, 1000)}`,
    'prefix, 3 letters': () => pick(100, 2000).slice(0, 3),
    'mid word, one conversation': () => `${pick(100, 1000)}&conversationId=${convs[Math.floor(rand() * MEMBER_OF)]}`,
    'mid word, from @p3': () => `${pick(100, 1000)}&from=%40p3`
  }
  const get = async (q: string) => {
    const t = performance.now()
    const res = await fetch(`${server.url}/api/search?limit=20&q=${q}`, { headers: { cookie: `cc_session=${searcher.cookie}` } })
    const body = (await res.json()) as { results?: unknown[] }
    if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(body)}`)
    return { ms: performance.now() - t, hits: body.results!.length }
  }
  for (let i = 0; i < 10; i++) await get(pick(0, 1000)) // warm the page cache
  const all: number[] = []
  for (const [kind, make] of Object.entries(kinds)) {
    const times: number[] = []
    let hits = 0
    for (let i = 0; i < 40; i++) {
      const r = await get(make())
      times.push(r.ms)
      hits += r.hits
    }
    times.sort((a, b) => a - b)
    all.push(...times)
    console.log(`${kind.padEnd(28)} p50 ${fmt(percentile(times, 50)).padStart(10)}  p99 ${fmt(percentile(times, 99)).padStart(10)}  (avg ${(hits / 40).toFixed(1)} results)`)
  }
  all.sort((a, b) => a - b)
  console.log(`${'all queries'.padEnd(28)} p50 ${fmt(percentile(all, 50)).padStart(10)}  p99 ${fmt(percentile(all, 99)).padStart(10)}  (${all.length} queries over HTTP, member of ${MEMBER_OF}/${CONVERSATIONS} conversations)`)
} finally {
  await server.close()
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0) // the agent runtime's timers would keep an idle process alive
