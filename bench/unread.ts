// bench/unread: N members connected to their `me:` docs (default 200) in one channel; one of them
// posts over sync. Prints the time from the post being accepted (the relay's durable ack) to
// each other member's unread count changing in their me doc (p50/p99), and from the send.
// With --cluster (CLUSTER=redis, REDIS_URL overrides): two server processes on one SQLite file;
// the post goes to A, which owns the channel, and the members' me docs are on B, which owns them,
// so each figure crosses processes on the unread stream (the run's keys are deleted after).
// Run: npx tsx bench/unread.ts [members] [--cluster]
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { appendMessage, docName, meUnreadOf } from '@circlechat/model'
import { dropRedisKeys, fmt, percentile, startGatewayChild } from './lib/stats.js'

interface Info { url: string; conversationId: string; members: Array<{ id: string; cookie: string }> }

const args = process.argv.slice(2)
const CLUSTER = args.includes('--cluster')
const MEMBERS = Number(args.find((a) => a !== '--cluster') ?? 200)
const POSTS = 40
const GAP_MS = 400 // under the relay's 5 new messages/s per connection

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `cc-bench:${randomUUID()}:`
const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-unread-'))
const env = CLUSTER ? { ...process.env, CLUSTER: 'redis', REDIS_URL, REDIS_PREFIX: prefix } : process.env
const a = await startGatewayChild<Info>(MEMBERS, dataDir, env)
const b = CLUSTER ? await startGatewayChild<Info>(MEMBERS, dataDir, env, 'join') : a
const info = a.first
const wsA = info.url.replace(/^http/, 'ws')
const wsB = b.first.url.replace(/^http/, 'ws')
const headersOf = (cookie: string, url: string) => ({ cookie: `cc_session=${cookie}`, origin: url })

// Receivers: a raw socket and a Y.Doc each (cheaper than 200 providers); record when the count
// for the channel first reaches each value.
const [poster, ...receivers] = info.members
const changed: Array<Map<number, number>> = []
await Promise.all(receivers.map((m, i) => new Promise<void>((resolve, reject) => {
  const doc = new Y.Doc()
  const seen = new Map<number, number>()
  changed[i] = seen
  const sock = new WebSocket(`${wsB}/sync/${docName.me(m.id)}`, { headers: headersOf(m.cookie, b.first.url) })
  sock.on('open', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 0)
    syncProtocol.writeSyncStep1(e, doc)
    sock.send(encoding.toUint8Array(e))
  })
  sock.on('message', (data: Buffer) => {
    const d = decoding.createDecoder(new Uint8Array(data))
    if (decoding.readVarUint(d) !== 0) return
    const t = decoding.readVarUint(d)
    if (t === 1 || t === 2) {
      Y.applyUpdate(doc, decoding.readVarUint8Array(d))
      const count = meUnreadOf(doc).get(info.conversationId)?.count ?? 0
      if (!seen.has(count)) seen.set(count, performance.now())
      if (t === 1) resolve()
    }
  })
  sock.on('error', reject)
})))

// The poster: a y-websocket client on the channel's live segment, timing each ack (101).
class CookieWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { headers: headersOf(poster!.cookie, info.url) })
  }
}
const provider = new WebsocketProvider(`${wsA}/sync`, docName.conv(info.conversationId, 0), new Y.Doc(), { WebSocketPolyfill: CookieWebSocket as never, disableBc: true })
// The ack count is cumulative and includes what the client sent while syncing: only acks that
// arrive once posting has begun are the posts'.
const acks: number[] = []
let ackedSoFar = 0
let posting = false
provider.messageHandlers[101] = (_e, d) => {
  const n = decoding.readVarUint(d)
  for (; ackedSoFar < n; ackedSoFar++) if (posting) acks.push(performance.now())
}
provider.messageHandlers[100] = (_e, d) => console.error('rejected:', decoding.readVarString(d), decoding.readVarString(d))
await new Promise<void>((resolve) => provider.once('sync', () => resolve()))
await new Promise((r) => setTimeout(r, 500))

const sent: number[] = []
posting = true
for (let i = 0; i < POSTS; i++) {
  sent.push(performance.now())
  appendMessage(provider.doc, { author: poster!.id, body: `post ${i}` })
  await new Promise((r) => setTimeout(r, GAP_MS))
}
await new Promise((r) => setTimeout(r, 2000))

const fromAck: number[] = []
const fromSend: number[] = []
let missing = 0
for (let i = 0; i < POSTS; i++) {
  for (const seen of changed) {
    const at = seen.get(i + 1)
    if (at === undefined || acks[i] === undefined) { missing++; continue }
    fromAck.push(at - acks[i]!)
    fromSend.push(at - sent[i]!)
  }
}
fromAck.sort((a, b) => a - b)
fromSend.sort((a, b) => a - b)
const acked = acks.slice(0, POSTS).map((a, i) => a - sent[i]!).sort((a, b) => a - b)
console.log(`${CLUSTER ? 'two processes (post on A, me docs on B); ' : ''}${MEMBERS} members connected to their me docs, one channel, ${POSTS} posts ${GAP_MS} ms apart; ${fromAck.length} unread changes observed, ${missing} missing`)
console.log(`post sent → accepted (ack):        p50 ${fmt(percentile(acked, 50))}  p99 ${fmt(percentile(acked, 99))}`)
console.log(`accepted → unread count changed:   p50 ${fmt(percentile(fromAck, 50))}  p99 ${fmt(percentile(fromAck, 99))}`)
console.log(`post sent → unread count changed:  p50 ${fmt(percentile(fromSend, 50))}  p99 ${fmt(percentile(fromSend, 99))}`)
provider.destroy()
await Promise.all([...new Set([a.child, b.child])].map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM') })))
if (CLUSTER) dropRedisKeys(REDIS_URL, prefix)
process.exit(0)
