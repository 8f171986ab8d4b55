// bench/cluster: the fan-out of bench/fanout.ts with its clients split over two relay processes
// (CLUSTER=redis, one SQLite file, a real Redis): process A owns the conversation, the posters
// are on B, so every post is forwarded, committed by A and relayed back through B's feed. Prints
// send→receive p50/p99 at the receivers on each process and each process's CPU per message.
// Run: pnpm --filter @circlechat/bench exec tsx cluster.ts [clients...]   (REDIS_URL overrides;
// the run's keys are deleted with redis-cli)
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { cpuSeconds, dropRedisKeys, fmt, percentile, startClusterRelay, startRelayChild } from './lib/stats.js'
import { close, latencies, MESSAGES, openReceivers, openSenders, post, RATE, SENDERS, type Receiver } from './lib/fanout-clients.js'

interface Info { url: string; name: string; members: Array<{ id: string; token: string }> }

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function run(clients: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'cc-cluster-bench-')), 'c.db')
  const prefix = `cc-bench:${randomUUID()}:`
  const a = await startRelayChild<Info>(file, clients, undefined, { redisUrl: REDIS_URL, prefix, holder: 'a' })
  const b = await startClusterRelay(file, REDIS_URL, prefix, 'b')
  const { name, members } = a.info
  const listeners = members.slice(SENDERS)
  const half = Math.ceil(listeners.length / 2)
  // Receivers on A first: A opens the doc first and owns it.
  const onA = await openReceivers(name, listeners.slice(0, half).map((m) => ({ url: a.info.url, token: m.id })))
  const onB = await openReceivers(name, listeners.slice(half).map((m) => ({ url: b.url, token: m.id })))
  const senders = await openSenders(name, members.slice(0, SENDERS).map((m) => ({ url: b.url, token: m.id, id: m.id })))
  const cpu0 = [cpuSeconds(a.child.pid!), cpuSeconds(b.child.pid!)]
  const sent = await post(senders, [...onA, ...onB])
  const cpu = [cpuSeconds(a.child.pid!) - cpu0[0]!, cpuSeconds(b.child.pid!) - cpu0[1]!]
  const report = (side: string, receivers: Receiver[]) => {
    const l = latencies(receivers, sent)
    return `${side}: delivered ${l.length}/${MESSAGES * receivers.length}, p50 ${fmt(percentile(l, 50))}, p99 ${fmt(percentile(l, 99))}`
  }
  console.log(`cluster of 2, ${clients} clients (${SENDERS} posting on B, the follower), ${MESSAGES} messages at ${RATE}/s`)
  console.log(`  receivers on A (owner, ${half}): ${report('A', onA)}`)
  console.log(`  receivers on B (follower, ${listeners.length - half}): ${report('B', onB)}`)
  console.log(`  CPU per message: A ${(cpu[0]! * 1000 / MESSAGES).toFixed(2)} ms, B ${(cpu[1]! * 1000 / MESSAGES).toFixed(2)} ms`)
  close(senders, [...onA, ...onB])
  a.child.kill('SIGKILL')
  b.child.kill('SIGKILL')
  dropRedisKeys(REDIS_URL, prefix)
  rmSync(dirname(file), { recursive: true, force: true })
}

const sizes = process.argv.slice(2).map(Number)
for (const n of sizes.length ? sizes : [100, 500]) await run(n)
process.exit(0)
