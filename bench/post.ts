// bench/post: REST post load. The server runs in its own process; this one keeps many posts in
// flight over keep-alive connections (an undici Pool), so it costs less CPU than the server. For
// a fresh server and for one whose channel holds `history` messages (written straight into the
// doc log and the message index before the server starts, authored by the posters, who never
// read), prints acked posts/s, ack p50/p99, server CPU ms per acked post (from /proc/<pid>/stat),
// the load generator's own CPU per post, and server RSS idle and after the load.
// Run: npx tsx bench/post.ts [history…]   (default 0 50000; INFLIGHT=1,16,64 SECONDS=8)
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as Y from 'yjs'
import { Pool } from 'undici'
import { openDb } from '@circlechat/db'
import { appendMessage, docName, initSegment, listMessages, sealSegment, DEFAULT_SEGMENT_SIZE } from '@circlechat/model'
import { cpuSeconds, fmt, percentile, rssMiB, startServerChild } from './lib/stats.js'

interface Info { url: string; conversationId: string; members: Array<{ id: string; cookie: string }> }

const HISTORIES = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 50_000]
const INFLIGHT = (process.env.INFLIGHT ?? '1,16').split(',').map(Number)
const SECONDS = Number(process.env.SECONDS ?? 8)
/** Distinct posting members (in-flight requests share them round robin), plus people who only read. */
const POSTERS = 16
const READERS = 4

/** People and the channel, seeded by bench/lib/gateway-child.ts into `dataDir`, which then exits. */
async function seedPeople(dataDir: string): Promise<Info> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lib/gateway-child.ts'), String(POSTERS + READERS), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const info = JSON.parse(await new Promise<string>((resolve) => lines.once('line', resolve))) as Info
  lines.on('line', () => {})
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return info
}

/** `total` top-level messages by the posters: one compacted update per segment and its index rows. */
function seedHistory(dataDir: string, info: Info, total: number): void {
  const db = openDb(join(dataDir, 'circlechat.db'))
  const sqlite = db.$client
  const insertDoc = sqlite.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)')
  const insertRow = sqlite.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
    VALUES (?, ?, ?, NULL, ?, ?, 0, ?, '[]', '[]', '[]')`)
  const full = Math.floor(total / DEFAULT_SEGMENT_SIZE)
  const segments = Math.ceil(total / DEFAULT_SEGMENT_SIZE)
  const t0 = performance.now()
  const start = Date.now() - total - 60_000
  for (let s = 0; s < segments; s++) {
    const doc = new Y.Doc()
    initSegment(doc, info.conversationId, s)
    const n = Math.min(DEFAULT_SEGMENT_SIZE, total - s * DEFAULT_SEGMENT_SIZE)
    for (let i = 0; i < n; i++) {
      const k = s * DEFAULT_SEGMENT_SIZE + i
      appendMessage(doc, { author: info.members[k % POSTERS]!.id, body: `history ${k}: ${'status update text '.repeat(3)}`, createdAt: start + k })
    }
    if (s < full) sealSegment(doc)
    const name = docName.conv(info.conversationId, s)
    sqlite.transaction(() => {
      insertDoc.run(name, Buffer.from(Y.encodeStateAsUpdate(doc)))
      for (const m of listMessages(doc)) insertRow.run(m.id, info.conversationId, name, m.author, m.createdAt, m.body)
    })()
  }
  // A full last segment is sealed: the next post opens a new one, as the relay would have.
  sqlite.prepare('UPDATE conversations SET live_segment = ? WHERE id = ?').run(full === segments ? full : segments - 1, info.conversationId)
  sqlite.close()
  console.log(`seeded ${total.toLocaleString('en')} messages in ${segments} segments in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

/** `inflight` requests always outstanding for SECONDS; returns the figures of the measured window. */
async function load(url: string, pid: number, info: Info, inflight: number) {
  const pool = new Pool(url, { connections: inflight, pipelining: 1 })
  const path = `/api/conversations/${info.conversationId}/messages`
  const posters = info.members.slice(0, POSTERS).map((m) => ({ cookie: `cc_session=${m.cookie}`, origin: url, 'content-type': 'application/json' }))
  let measuring = false
  let stop = false
  const latencies: number[] = []
  let errors = 0
  let n = 0
  const worker = async (slot: number) => {
    while (!stop) {
      const headers = posters[(slot + n++) % POSTERS]!
      const t = performance.now()
      const res = await pool.request({ path, method: 'POST', headers, body: JSON.stringify({ bodyMd: `load post ${n} from slot ${slot}` }) })
      await res.body.dump()
      if (!measuring) continue
      if (res.statusCode === 201) latencies.push(performance.now() - t)
      else errors++
    }
  }
  const workers = Array.from({ length: inflight }, (_, slot) => worker(slot))
  await new Promise((r) => setTimeout(r, 1000)) // warm up: connections, JIT, docs loaded
  measuring = true
  const [server0, own0, t0] = [cpuSeconds(pid), process.cpuUsage(), performance.now()]
  await new Promise((r) => setTimeout(r, SECONDS * 1000))
  const [server1, own1, t1] = [cpuSeconds(pid), process.cpuUsage(own0), performance.now()]
  measuring = false
  stop = true
  await Promise.all(workers)
  await pool.close()
  const acked = latencies.length
  latencies.sort((a, b) => a - b)
  return {
    acked, errors, perSec: acked / ((t1 - t0) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99),
    serverMs: ((server1 - server0) * 1000) / acked, clientMs: (own1.user + own1.system) / 1000 / acked
  }
}

console.log(`${POSTERS} posting members + ${READERS} readers in one channel; ${SECONDS} s measured after 1 s warm-up; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs`)
for (const history of HISTORIES) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-post-'))
  const info = await seedPeople(dataDir)
  if (history > 0) seedHistory(dataDir, info, history)
  const { child, url } = await startServerChild(dataDir)
  await new Promise((r) => setTimeout(r, 500))
  const idle = rssMiB(child.pid!)
  for (const inflight of INFLIGHT) {
    const r = await load(url, child.pid!, info, inflight)
    console.log(`history ${history.toLocaleString('en')}, ${inflight} in flight: ${r.acked} acked (${r.errors} errors), ${r.perSec.toFixed(0)} posts/s, ack p50 ${fmt(r.p50)} p99 ${fmt(r.p99)}, server CPU ${r.serverMs.toFixed(2)} ms/post, load generator ${r.clientMs.toFixed(2)} ms/post`)
  }
  console.log(`history ${history.toLocaleString('en')}: server RSS ${idle.toFixed(0)} MiB idle, ${rssMiB(child.pid!).toFixed(0)} MiB after the load`)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
}
process.exit(0)
