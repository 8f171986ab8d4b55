// bench/cluster: the fan-out of bench/fanout.ts with its clients split over two relay processes
// (CLUSTER=redis, one SQLite file, a real Redis): process A owns the conversation, the posters
// are on B, so every post is forwarded, committed by A and relayed back through B's feed. Prints
// send→receive p50/p99 at the receivers on each process and each process's CPU per message.
// Run: pnpm --filter @circlechat/bench exec tsx cluster.ts [clients...]   (REDIS_URL overrides;
// the run's keys are deleted with redis-cli)
import { execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as decoding from 'lib0/decoding'
import { appendMessage } from '@circlechat/model'
import { cpuSeconds, fmt, percentile, startRelayChild } from './lib/stats.js'

interface Info { url: string; name: string; members: Array<{ id: string; token: string }> }

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const RATE = 20
const MESSAGES = 200
const SENDERS = 10

/** Opens raw receivers that timestamp every relayed update frame; resolves once all are greeted. */
async function receivers(url: string, name: string, members: Info['members']) {
  const arrivals: number[][] = []
  const sockets: WebSocket[] = []
  await Promise.all(members.map((m, i) => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${url}/${name}?token=${m.id}`)
    const times: number[] = []
    arrivals[i] = times
    let greeted = false
    ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data))
      if (decoding.readVarUint(d) !== 0) return
      const t = decoding.readVarUint(d)
      if (t === 0 && !greeted) { greeted = true; resolve() }
      if (t === 2) times.push(performance.now())
    })
    ws.on('error', reject)
    sockets.push(ws)
  })))
  return { arrivals, sockets }
}

async function run(clients: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'cc-cluster-bench-')), 'c.db')
  const prefix = `cc-bench:${randomUUID()}:`
  const a = await startRelayChild<Info>(file, clients, undefined, { redisUrl: REDIS_URL, prefix, holder: 'a' })
  const bChild = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../sync-server/test/fixtures/child-cluster-relay.ts'), file, REDIS_URL, prefix, 'b', '5000'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const bUrl = (JSON.parse(await new Promise<string>((r) => createInterface({ input: bChild.stdout! }).once('line', r))) as { url: string }).url
  const { name, members } = a.info
  const listeners = members.slice(SENDERS)
  const half = Math.ceil(listeners.length / 2)
  // Receivers on A first: A opens the doc first and owns it.
  const onA = await receivers(a.info.url, name, listeners.slice(0, half))
  const onB = await receivers(bUrl, name, listeners.slice(half))
  const senders = members.slice(0, SENDERS).map((m) => {
    const p = new WebsocketProvider(bUrl, name, new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token: m.id } })
    p.messageHandlers[101] = () => {}
    p.messageHandlers[100] = (_e, d) => console.error('rejected:', decoding.readVarString(d))
    return { p, id: m.id }
  })
  await Promise.all(senders.map(({ p }) => new Promise<void>((r) => p.once('sync', () => r()))))
  await new Promise((r) => setTimeout(r, 300))
  for (const times of [...onA.arrivals, ...onB.arrivals]) times.length = 0
  const cpu0 = [cpuSeconds(a.child.pid!), cpuSeconds(bChild.pid!)]
  const sent: number[] = []
  for (let i = 0; i < MESSAGES; i++) {
    const { p, id } = senders[i % SENDERS]!
    sent.push(performance.now())
    appendMessage(p.doc, { author: id, body: `message ${i} ${'lorem ipsum '.repeat(4)}` })
    await new Promise((r) => setTimeout(r, 1000 / RATE))
  }
  await new Promise((r) => setTimeout(r, 1000))
  const cpu = [cpuSeconds(a.child.pid!) - cpu0[0]!, cpuSeconds(bChild.pid!) - cpu0[1]!]
  const report = (side: string, arrivals: number[][]) => {
    const latencies: number[] = []
    for (const times of arrivals) times.forEach((t, k) => k < sent.length && latencies.push(t - sent[k]!))
    latencies.sort((x, y) => x - y)
    return `${side}: delivered ${latencies.length}/${MESSAGES * arrivals.length}, p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}`
  }
  console.log(`cluster of 2, ${clients} clients (${SENDERS} posting on B, the follower), ${MESSAGES} messages at ${RATE}/s`)
  console.log(`  receivers on A (owner, ${half}): ${report('A', onA.arrivals)}`)
  console.log(`  receivers on B (follower, ${listeners.length - half}): ${report('B', onB.arrivals)}`)
  console.log(`  CPU per message: A ${(cpu[0]! * 1000 / MESSAGES).toFixed(2)} ms, B ${(cpu[1]! * 1000 / MESSAGES).toFixed(2)} ms`)
  for (const { p } of senders) p.destroy()
  for (const s of [...onA.sockets, ...onB.sockets]) s.terminate()
  a.child.kill('SIGKILL')
  bChild.kill('SIGKILL')
  // The run's keys (leases, fences, streams) go with it.
  const keys = execFileSync('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${prefix}*`]).toString().split('\n').filter(Boolean)
  if (keys.length > 0) execFileSync('redis-cli', ['-u', REDIS_URL, 'del', ...keys])
}

const sizes = process.argv.slice(2).map(Number)
for (const n of sizes.length ? sizes : [100, 500]) await run(n)
process.exit(0)
