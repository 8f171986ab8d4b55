// bench/fanout: N clients on one conversation, ten of them posting at a steady rate; prints the
// send→receive latency at every other client (p50/p99), the relay's CPU per message and its RSS.
// STORE=postgres: the relay on a scratch PostgreSQL database (PostgreSQL's own CPU not counted).
// Run: pnpm --filter @circlechat/bench exec tsx fanout.ts [clients...]
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as decoding from 'lib0/decoding'
import { appendMessage } from '@circlechat/model'
import { once } from 'node:events'
import { cpuSeconds, percentile, fmt, rssMiB, startRelayChild } from './lib/stats.js'

interface Info { url: string; name: string; members: Array<{ id: string; token: string }> }

const RATE = 20 // messages per second in the conversation
const MESSAGES = 200
// The relay allows one connection 5 new messages/s (burst 20); a busy channel is many people.
const SENDERS = 10

async function run(clients: number) {
  const { child, info } = await startRelayChild<Info>(join(mkdtempSync(join(tmpdir(), 'cc-fanout-')), 'f.db'), clients)
  const rssIdle = rssMiB(child.pid!)
  // Receivers are raw sockets: they count update frames (relayed in order) instead of running a
  // Y.Doc each, so 500 of them do not starve the relay of CPU on a 2-core box.
  const arrivals: number[][] = []
  const sockets: WebSocket[] = []
  await Promise.all(info.members.slice(SENDERS).map((m, i) => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${info.url}/${info.name}?token=${m.token}`)
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
  const senders = info.members.slice(0, SENDERS).map((m) => {
    const p = new WebsocketProvider(info.url, info.name, new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token: m.token } })
    p.messageHandlers[101] = () => {}
    p.messageHandlers[100] = (_e, d) => console.error('rejected:', decoding.readVarString(d))
    return { p, id: m.id }
  })
  await Promise.all(senders.map(({ p }) => new Promise<void>((r) => p.once('sync', () => r()))))
  await new Promise((r) => setTimeout(r, 300))
  for (const times of arrivals) times.length = 0
  const sent: number[] = []
  const cpu0 = cpuSeconds(child.pid!)
  for (let i = 0; i < MESSAGES; i++) {
    const { p, id } = senders[i % SENDERS]!
    sent.push(performance.now())
    appendMessage(p.doc, { author: id, body: `message ${i} ${'lorem ipsum '.repeat(4)}` })
    await new Promise((r) => setTimeout(r, 1000 / RATE))
  }
  await new Promise((r) => setTimeout(r, 1000))
  const cpuMs = ((cpuSeconds(child.pid!) - cpu0) * 1000) / MESSAGES
  const rssLoaded = rssMiB(child.pid!)
  const latencies: number[] = []
  for (const times of arrivals) times.forEach((t, k) => k < sent.length && latencies.push(t - sent[k]!))
  latencies.sort((a, b) => a - b)
  const expected = MESSAGES * (clients - SENDERS)
  console.log(`fanout ${process.env.STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'} ${clients} clients, ${MESSAGES} messages at ${RATE}/s: delivered ${latencies.length}/${expected}, p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? NaN)}; relay CPU ${cpuMs.toFixed(2)} ms/message; relay RSS ${rssIdle.toFixed(0)} MiB idle → ${rssLoaded.toFixed(0)} MiB with clients`)
  for (const { p } of senders) p.destroy()
  for (const s of sockets) s.terminate()
  // SIGTERM: a PostgreSQL relay drops its scratch database on the way out.
  child.kill('SIGTERM')
  await once(child, 'exit')
}

const sizes = process.argv.slice(2).map(Number)
for (const n of sizes.length ? sizes : [100, 500]) await run(n)
process.exit(0)
