// bench/scale: the scale-out figures of issue 15, in one run.
//  (a) REST post load against 1, 2 and 3 gateway processes with CLUSTER=redis on one DATA_DIR
//      (and one process without Redis as the baseline), the in-flight posts spread over their
//      ports: acked posts/s, ack p50/p99, server CPU ms per acked post summed over the processes.
//  (b) fan-out (100 and 500 clients) over 1, 2 and 3 relay processes (CLUSTER=redis, one SQLite
//      file), receivers and the 10 posters spread round robin, the first process owning the doc:
//      send→receive p50/p99 within a process and across processes, CPU ms per message summed.
//  (c) the relay on SQLite vs PostgreSQL, one process: bench/fanout.ts with and without STORE=postgres.
// Configurations are interleaved (ROUNDS of each), as the box is shared; compare ratios and CPU
// per operation, not absolute throughput. Every run has its own Redis prefix and data dir,
// both deleted after. Run: npx tsx bench/scale.ts [a] [b] [c]   (default all; INFLIGHT=16
// SECONDS=5 ROUNDS=2 CLIENTS=100,500 PROCESSES=1,2,3; REDIS_URL overrides)
import { execFileSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Info } from './lib/history.js'
import { cpuSeconds, dropRedisKeys, fmt, percentile, startClusterRelay, startGatewayChild, startRelayChild } from './lib/stats.js'
import { POSTERS, postLoad } from './lib/post-load.js'
import { close, latencies, MESSAGES, openReceivers, openSenders, post, RATE, SENDERS } from './lib/fanout-clients.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const INFLIGHT = Number(process.env.INFLIGHT ?? 16)
const SECONDS = Number(process.env.SECONDS ?? 5)
const ROUNDS = Number(process.env.ROUNDS ?? 2)
const CLIENTS = (process.env.CLIENTS ?? '100,500').split(',').map(Number)
const PROCESSES = (process.env.PROCESSES ?? '1,2,3').split(',').map(Number)
const parts = process.argv.slice(2)
const wants = (part: string) => parts.length === 0 || parts.includes(part)
/** One process without Redis (0 in the tables), then the cluster sizes. */
const configs = [0, ...PROCESSES]
const label = (n: number) => (n === 0 ? '1 process, no Redis' : `${n} process${n > 1 ? 'es' : ''}, Redis`)

async function stop(children: ChildProcess[]) {
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : (c.kill('SIGTERM'), once(c, 'exit')))))
}

/** (a) One measured window of REST posts against `n` gateway processes. */
async function restPosts(n: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-scale-'))
  const prefix = `cc-bench:${randomUUID()}:`
  const env = n === 0 ? process.env : { ...process.env, CLUSTER: 'redis', REDIS_URL, REDIS_PREFIX: prefix }
  const first = await startGatewayChild<Info>(POSTERS + 4, dataDir, env)
  const rest = []
  for (let i = 1; i < n; i++) rest.push(await startGatewayChild<{ url: string }>(0, dataDir, env, 'join'))
  const children = [first.child, ...rest.map((r) => r.child)]
  const r = await postLoad([first.first.url, ...rest.map((x) => x.first.url)], children.map((c) => c.pid!), first.first, INFLIGHT, SECONDS)
  await stop(children)
  if (n > 0) dropRedisKeys(REDIS_URL, prefix)
  rmSync(dataDir, { recursive: true, force: true })
  return r
}

interface RelayInfo { url: string; name: string; members: Array<{ id: string; token: string }> }

/** (b) Fan-out to `clients` over `n` relay processes. */
async function fanout(n: number, clients: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'cc-bench-scale-')), 's.db')
  const prefix = `cc-bench:${randomUUID()}:`
  const a = await startRelayChild<RelayInfo>(file, clients, undefined, n === 0 ? undefined : { redisUrl: REDIS_URL, prefix, holder: 'p0' })
  const others = []
  for (let i = 1; i < n; i++) others.push(await startClusterRelay(file, REDIS_URL, prefix, `p${i}`))
  const urls = [a.info.url, ...others.map((o) => o.url)]
  const children = [a.child, ...others.map((o) => o.child)]
  const { name, members } = a.info
  // Member ids are tokens on every process of a cluster; the embedded relay takes its own tokens.
  const token = (m: RelayInfo['members'][number]) => (n === 0 ? m.token : m.id)
  // The first process opens the doc first (its receivers connect first) and owns it.
  const receivers = []
  for (let p = 0; p < urls.length; p++) {
    receivers.push(...await openReceivers(name, members.slice(SENDERS).filter((_, i) => i % urls.length === p).map((m) => ({ url: urls[p]!, token: token(m) }))))
  }
  const senders = await openSenders(name, members.slice(0, SENDERS).map((m, i) => ({ url: urls[i % urls.length]!, token: token(m), id: m.id })))
  const cpu0 = children.map((c) => cpuSeconds(c.pid!))
  const sent = await post(senders, receivers)
  const cpuMs = (children.reduce((sum, c, i) => sum + cpuSeconds(c.pid!) - cpu0[i]!, 0) * 1000) / MESSAGES
  const within = latencies(receivers, sent, (from, to) => from.url === to.url)
  const across = latencies(receivers, sent, (from, to) => from.url !== to.url)
  close(senders, receivers)
  await stop(children)
  if (n > 0) dropRedisKeys(REDIS_URL, prefix)
  rmSync(dirname(file), { recursive: true, force: true })
  return { delivered: within.length + across.length, expected: MESSAGES * receivers.length, within, across, cpuMs }
}

const p = (l: number[]) => (l.length === 0 ? '—' : `p50 ${fmt(percentile(l, 50))} p99 ${fmt(percentile(l, 99))}`)
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs; ${ROUNDS} round(s), configurations interleaved`)

if (wants('a')) {
  console.log(`\n(a) REST posts, ${INFLIGHT} in flight spread over the processes' ports, ${POSTERS} posting members, ${SECONDS} s measured after 1 s warm-up`)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const n of configs) {
      const r = await restPosts(n)
      console.log(`  round ${round}, ${label(n)}: ${r.acked} acked (${r.errors} errors), ${r.perSec.toFixed(0)} posts/s, ack p50 ${fmt(r.p50)} p99 ${fmt(r.p99)}, server CPU ${r.serverMs.toFixed(2)} ms/post (all processes), load generator ${r.clientMs.toFixed(2)} ms/post`)
    }
  }
}

if (wants('b')) {
  console.log(`\n(b) fan-out, ${SENDERS} posters and the receivers spread round robin, ${MESSAGES} messages at ${RATE}/s; latency send→receive`)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const clients of CLIENTS) {
      for (const n of configs) {
        const r = await fanout(n, clients)
        console.log(`  round ${round}, ${clients} clients, ${label(n)}: delivered ${r.delivered}/${r.expected}; within a process ${p(r.within)}; across processes ${p(r.across)}; CPU ${r.cpuMs.toFixed(2)} ms/message (all processes)`)
      }
    }
  }
}

if (wants('c')) {
  console.log(`\n(c) the relay on SQLite vs PostgreSQL, one process (bench/fanout.ts; PostgreSQL's own CPU not counted)`)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const clients of CLIENTS) {
      for (const store of ['sqlite', 'postgres']) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fanout.ts'), String(clients)], { env: { ...process.env, STORE: store }, stdio: ['ignore', 'pipe', 'inherit'] })
        process.stdout.write(`  round ${round}, ${out.toString()}`)
      }
    }
  }
}
process.exit(0)
