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
import { seedHistory, seedPeople, type Info } from './lib/history.js'
import { fmt, rssMiB, startServerChild } from './lib/stats.js'
import { POSTERS, postLoad } from './lib/post-load.js'

const HISTORIES = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 50_000]
const INFLIGHT = (process.env.INFLIGHT ?? '1,16').split(',').map(Number)
const SECONDS = Number(process.env.SECONDS ?? 8)
/** People who only read, besides the posters. */
const READERS = 4

console.log(`${POSTERS} posting members + ${READERS} readers in one channel; ${SECONDS} s measured after 1 s warm-up; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs`)
for (const history of HISTORIES) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-post-'))
  const info = await seedPeople(dataDir, POSTERS + READERS)
  if (history > 0) seedHistory(dataDir, info, history, POSTERS)
  const { child, url } = await startServerChild(dataDir)
  await new Promise((r) => setTimeout(r, 500))
  const idle = rssMiB(child.pid!)
  for (const inflight of INFLIGHT) {
    const r = await postLoad([url], [child.pid!], info, inflight, SECONDS)
    console.log(`history ${history.toLocaleString('en')}, ${inflight} in flight: ${r.acked} acked (${r.errors} errors), ${r.perSec.toFixed(0)} posts/s, ack p50 ${fmt(r.p50)} p99 ${fmt(r.p99)}, server CPU ${r.serverMs.toFixed(2)} ms/post, load generator ${r.clientMs.toFixed(2)} ms/post`)
  }
  console.log(`history ${history.toLocaleString('en')}: server RSS ${idle.toFixed(0)} MiB idle, ${rssMiB(child.pid!).toFixed(0)} MiB after the load`)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0)
