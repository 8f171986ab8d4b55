// bench/reconnect: a day offline — 500 messages, 100 edits and 50 reactions in one conversation,
// made while disconnected — then reconnect through the web app's outbox
// (apps/web/src/lib/sync/outbox.ts): time until every change is acknowledged, update messages
// and bytes sent, against the single sync-step-2 update y-websocket would have sent instead.
// Real relay and SQLite on loopback (in process). Run: npx tsx bench/reconnect.ts [messages]
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
await h.close()
