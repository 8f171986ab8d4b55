// bench/reconnect: a day offline, both directions.
//   outgoing: 500 messages, 100 edits and 50 reactions in one conversation, made while
//     disconnected, then reconnect through the web app's outbox (apps/web/src/lib/sync/outbox.ts):
//     time until every change is acknowledged, update messages and bytes sent, against the single
//     sync-step-2 update y-websocket would have sent instead.
//   incoming: a client with INCOMING_CONVERSATIONS (20) conversations open goes offline while
//     INCOMING (10,000) messages arrive across them, then reconnects every doc at once, as the web
//     app does when the network returns: bytes received and sent, frames, and time until every doc
//     holds every message — one state-vector exchange per doc, no replay of the missed updates.
// Real relay and SQLite on loopback (in process).
// Run: npx tsx bench/reconnect.ts [messages]   (INCOMING=10000 INCOMING_CONVERSATIONS=20)
import * as Y from 'yjs'
import { appendMessage, docName, editMessage, listMessages, toggleReaction } from '@circlechat/model'
import { startHarness, until } from '../sync-server/test/harness.js'
import { OutboxClient } from '../sync-server/test/outbox-client.js'
import { OUTBOX_WINDOW } from '../apps/web/src/lib/sync/outbox.js'

const messages = Number(process.argv[2] ?? 500)
const edits = Math.round(messages / 5)
const reactions = Math.round(messages / 10)

const h = await startHarness()
const alice = h.seedMember()
const bob = h.seedMember()
const conv = h.seedConversation([alice.memberId, bob.memberId])
const name = docName.conv(conv, 0)
const c = new OutboxClient(h.url, name, alice.token)
await until(() => c.provider.synced, 5000, 'first sync')
c.offline()
const serverSv = Y.encodeStateVector(await h.sync.getDoc(name))

const ids: string[] = []
for (let i = 0; i < messages; i++) ids.push(appendMessage(c.doc, { author: alice.memberId, body: `offline message ${i}: a line of typical length for a chat message` }))
for (let i = 0; i < edits; i++) editMessage(c.doc, ids[(i * 7) % ids.length]!, `offline message ${(i * 7) % ids.length}, edited (${i})`, [])
for (let i = 0; i < reactions; i++) toggleReaction(c.doc, ids[(i * 3) % ids.length]!, alice.memberId, '👍')
const changes = c.outbox.pending
const oneStep2 = Y.encodeStateAsUpdate(c.doc, serverSv).byteLength

const start = performance.now()
c.online()
await until(() => c.outbox.pending === 0, 120_000, 'outbox drained')
const ms = performance.now() - start
const landed = listMessages(await h.sync.getDoc(name)).length
const rows = h.db.$client.prepare('SELECT count(*) FROM messages WHERE conversation_id = ?').pluck().get(conv) as number

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
console.log(`a day offline: ${messages} messages, ${edits} edits, ${reactions} reactions = ${changes} outbox changes (window ${OUTBOX_WINDOW})`)
console.log(`landed in ${ms.toFixed(0)} ms on loopback (${(ms / changes).toFixed(2)} ms per change); ${landed} messages in the doc, ${rows} indexed, ${c.refused.length} refused`)
console.log(`sent ${kib(c.sentBytes)} in ${changes} update messages (mean ${(c.sentBytes / changes).toFixed(0)} B); y-websocket's one step 2 would be ${kib(oneStep2)} (limit 256 KiB)`)
console.log(`at 50 ms round trip: ~${((Math.ceil(changes / OUTBOX_WINDOW) * 50) / 1000).toFixed(1)} s plus transfer (${OUTBOX_WINDOW} changes in flight)`)
c.destroy()

// ---- incoming ------------------------------------------------------------------------------
const incoming = Number(process.env.INCOMING ?? 10_000)
const convCount = Number(process.env.INCOMING_CONVERSATIONS ?? 20)
const carol = h.seedMember()
const dan = h.seedMember()
const names = Array.from({ length: convCount }, () => docName.conv(h.seedConversation([carol.memberId, dan.memberId]), 0))
// Dan's browser: each conversation opened once (synced, so his copy is the server's), then the lid closes.
const dans = names.map((n) => new OutboxClient(h.url, n, dan.token))
let received = 0
let receivedFrames = 0
let sentSync = 0
for (const d of dans) {
  d.provider.on('status', ({ status }: { status: string }) => {
    const ws = (d.provider as unknown as { ws: { addEventListener: (t: string, f: (e: { data: ArrayBuffer }) => void) => void; send: (b: Uint8Array) => void } | null }).ws
    if (status !== 'connected' || !ws) return
    ws.addEventListener('message', (e) => {
      received += e.data.byteLength
      receivedFrames++
    })
    const send = ws.send.bind(ws)
    ws.send = (b: Uint8Array) => {
      if (b[0] === 0) sentSync += b.byteLength
      return send(b)
    }
  })
}
await until(() => dans.every((d) => d.provider.synced), 10_000, 'first sync of every conversation')
for (const d of dans) d.offline()
const base = dans.map((d) => listMessages(d.doc).length)

// While he is away, Carol's messages arrive (written by the server as REST posts are).
const seedStart = performance.now()
let updatesBytes = 0
for (let i = 0; i < incoming; i++) {
  const n = names[i % convCount]!
  const before = Y.encodeStateVector(await h.sync.getDoc(n))
  await h.sync.transact(n, { source: 'rest', memberId: carol.memberId }, (doc) => appendMessage(doc, { author: carol.memberId, body: `while you were away ${i}: a line of typical length for a chat message` }))
  updatesBytes += Y.encodeStateAsUpdate(await h.sync.getDoc(n), before).byteLength
}
const seedMs = performance.now() - seedStart
received = 0
receivedFrames = 0
sentSync = 0
const perDoc = Math.ceil(incoming / convCount)

const wake = performance.now()
for (const d of dans) d.online()
await until(() => dans.every((d, i) => listMessages(d.doc).length >= base[i]! + Math.floor(incoming / convCount)), 120_000, 'caught up')
const catchUp = performance.now() - wake
const got = dans.reduce((n, d, i) => n + listMessages(d.doc).length - base[i]!, 0)
console.log('')
console.log(`incoming: ${incoming} messages arrived across ${convCount} conversations (~${perDoc} each) while offline (written in ${(seedMs / 1000).toFixed(1)} s, ${kib(updatesBytes)} of updates one by one)`)
console.log(`caught up in ${catchUp.toFixed(0)} ms on loopback: ${got} new messages in ${convCount} docs; received ${kib(received)} in ${receivedFrames} frames (${(received / got).toFixed(0)} B per message), sent ${kib(sentSync)} of sync messages (${(sentSync / convCount).toFixed(0)} B per doc: its state vector and an empty step 2)`)
console.log(`one state-vector exchange per doc: ${convCount} step-1/step-2 pairs; the missed updates are not replayed (${(100 * received / updatesBytes).toFixed(0)} % of their bytes)`)
for (const d of dans) d.destroy()
await h.close()
