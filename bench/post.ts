// bench/post: REST post load. The server runs in its own process; this one keeps many posts in
// flight over keep-alive connections (an undici Pool), so it costs less CPU than the server. For
// a fresh server and for one whose channel holds `history` messages (written straight into the
// doc log and the message index before the server starts, authored by the posters, who never
// read), prints acked posts/s, ack p50/p99, server CPU ms per acked post (from /proc/<pid>/stat),
// the load generator's own CPU per post, and server RSS idle and after the load.
// Run: npx tsx bench/post.ts [history…]   (default 0 50000; INFLIGHT=1,16,64 SECONDS=8)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { seedHistory, seedPeople, type Info } from './lib/history.js'
import { cpuSeconds, fmt, percentile, rssMiB, startServerChild } from './lib/stats.js'

const HISTORIES = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 50_000]
const INFLIGHT = (process.env.INFLIGHT ?? '1,16').split(',').map(Number)
const SECONDS = Number(process.env.SECONDS ?? 8)
/** Distinct posting members (in-flight requests share them round robin), plus people who only read. */
const POSTERS = 16
const READERS = 4

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
  const info = await seedPeople(dataDir, POSTERS + READERS)
  if (history > 0) seedHistory(dataDir, info, history, POSTERS)
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
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0)
