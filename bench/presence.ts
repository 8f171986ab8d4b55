// bench/presence: N sockets with presence on one conversation (default 1,000), renewing as the web
// app's y-websocket does (a clock bump with the same state; every RENEW_MS here instead of ~15 s,
// so one run sees many renewal rounds), echoing every awareness frame they receive (y-websocket
// sends back each update it applies), a couple of typing starts/stops a second, while 10 posters
// post 20 messages/s. Prints the relay child's CPU (from /proc/<pid>/stat), post send→receive
// p50/p99 at every socket, and frames/s the relay sent to the sockets.
// Run: pnpm --filter @circlechat/bench exec tsx presence.ts [sockets] [seconds]
//      (POST_RATE=1 RENEW_MS=15000 … for idle sockets at the web app's real renewal rate)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { appendMessage } from '@circlechat/model'
import { cpuSeconds, percentile, fmt, startRelayChild } from './lib/stats.js'

interface Info { url: string; name: string; members: Array<{ id: string; token: string }> }

const SOCKETS = Number(process.argv[2] ?? 1000)
const SECONDS = Number(process.argv[3] ?? 20)
/** Posts per second in the conversation (POST_RATE=1 for an almost idle room). */
const RATE = Number(process.env.POST_RATE ?? 20)
const POSTERS = 10
/** The web app renews every 15–18 s; compressed 10× by default (RENEW_MS=15000 for the real rate). */
const RENEW_MS = Number(process.env.RENEW_MS ?? 1500)
const TYPING_PER_S = 2
function awarenessFrame(id: number, clock: number, state: unknown): Uint8Array {
  const inner = encoding.createEncoder()
  encoding.writeVarUint(inner, 1)
  encoding.writeVarUint(inner, id)
  encoding.writeVarUint(inner, clock)
  encoding.writeVarString(inner, JSON.stringify(state))
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
  return encoding.toUint8Array(e)
}

const { child, info } = await startRelayChild<Info>(join(mkdtempSync(join(tmpdir(), 'cc-presence-')), 'p.db'), SOCKETS + POSTERS)
const counts = { frames: 0, awareness: 0 }
const arrivals: number[][] = []
interface Peer { ws: WebSocket; id: number; clock: number; state: { memberId: string; typing: boolean } }
const peers: Peer[] = []
// Connect in waves so the upgrades do not all queue at once.
for (let start = 0; start < SOCKETS; start += 100) {
  await Promise.all(info.members.slice(POSTERS + start, POSTERS + Math.min(SOCKETS, start + 100)).map((m, k) => new Promise<void>((resolve, reject) => {
    const i = start + k
    const ws = new WebSocket(`${info.url}/${info.name}?token=${m.token}`)
    const peer: Peer = { ws, id: 1_000_000 + i, clock: 1, state: { memberId: m.id, typing: false } }
    peers.push(peer)
    const times: number[] = []
    arrivals[i] = times
    let greeted = false
    ws.on('message', (data: Buffer) => {
      counts.frames++
      const d = decoding.createDecoder(new Uint8Array(data))
      const type = decoding.readVarUint(d)
      if (type === 1) {
        counts.awareness++
        ws.send(data) // y-websocket's echo of what it applied
        return
      }
      if (type !== 0) return
      const t = decoding.readVarUint(d)
      if (t === 0 && !greeted) {
        greeted = true
        ws.send(awarenessFrame(peer.id, peer.clock, peer.state))
        resolve()
      }
      if (t === 2) times.push(performance.now())
    })
    ws.on('error', reject)
  })))
}
const posters = info.members.slice(0, POSTERS).map((m) => {
  const p = new WebsocketProvider(info.url, info.name, new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token: m.token } })
  p.messageHandlers[101] = () => {}
  p.messageHandlers[100] = (_e, d) => console.error('rejected:', decoding.readVarString(d))
  p.awareness.setLocalState({ memberId: m.id, typing: false })
  return { p, id: m.id }
})
await Promise.all(posters.map(({ p }) => new Promise<void>((r) => p.once('sync', () => r()))))

// Renewals: each socket bumps its clock every RENEW_MS, spread evenly.
const renewals = setInterval(() => {
  const n = Math.round((SOCKETS * 100) / RENEW_MS)
  for (let k = 0; k < n; k++) {
    const peer = peers[(renewCursor++) % peers.length]!
    peer.clock++
    if (peer.ws.readyState === peer.ws.OPEN) peer.ws.send(awarenessFrame(peer.id, peer.clock, peer.state))
  }
}, 100)
let renewCursor = 0
const typing = setInterval(() => {
  const peer = peers[Math.floor(Math.random() * peers.length)]!
  peer.state = { ...peer.state, typing: !peer.state.typing }
  peer.clock++
  if (peer.ws.readyState === peer.ws.OPEN) peer.ws.send(awarenessFrame(peer.id, peer.clock, peer.state))
}, 1000 / TYPING_PER_S)

// Warm up a full renewal round, then measure.
await new Promise((r) => setTimeout(r, RENEW_MS * 2))
for (const times of arrivals) times.length = 0
counts.frames = 0
counts.awareness = 0
const cpu0 = cpuSeconds(child.pid!)
const t0 = performance.now()
const sent: number[] = []
const total = RATE * SECONDS
for (let i = 0; i < total; i++) {
  const { p, id } = posters[i % POSTERS]!
  sent.push(performance.now())
  appendMessage(p.doc, { author: id, body: `message ${i} ${'lorem ipsum '.repeat(4)}` })
  const next = t0 + ((i + 1) * 1000) / RATE
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())))
}
await new Promise((r) => setTimeout(r, 1000))
const elapsed = (performance.now() - t0) / 1000
const cpu = cpuSeconds(child.pid!) - cpu0
clearInterval(renewals)
clearInterval(typing)
const latencies: number[] = []
let delivered = 0
for (const times of arrivals) {
  delivered += Math.min(times.length, sent.length)
  times.forEach((t, k) => k < sent.length && latencies.push(t - sent[k]!))
}
latencies.sort((a, b) => a - b)
console.log(`presence ${SOCKETS} sockets renewing every ${RENEW_MS} ms (${(SOCKETS / (RENEW_MS / 1000)).toFixed(0)} renewals/s), ${TYPING_PER_S} typing changes/s, ${total} posts at ${RATE}/s over ${elapsed.toFixed(1)} s:`)
console.log(`  relay CPU ${cpu.toFixed(2)} s (${((cpu / elapsed) * 100).toFixed(0)}% of a core)`)
console.log(`  posts delivered ${delivered}/${total * SOCKETS}, p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? NaN)}`)
console.log(`  frames sent to the sockets ${(counts.frames / elapsed).toFixed(0)}/s (awareness ${(counts.awareness / elapsed).toFixed(0)}/s, ${(counts.awareness / elapsed / SOCKETS).toFixed(2)} per socket per s)`)
for (const { p } of posters) p.destroy()
for (const peer of peers) peer.ws.terminate()
child.kill('SIGKILL')
process.exit(0)
