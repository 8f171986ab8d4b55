// bench/open: time and bytes to open a conversation with 100,000 messages of history, which is
// the cost of its live segment; and to page one older segment in.
// Run: pnpm --filter @circlechat/bench exec tsx open.ts [messages]
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { openDb } from '@circlechat/db'
import { appendMessage, docName, initSegment, sealSegment, listMessages, DEFAULT_SEGMENT_SIZE } from '@circlechat/model'
import { fmt, startRelayChild } from './lib/stats.js'

interface Info { url: string; conv: string; members: Array<{ id: string; token: string }> }

const total = Number(process.argv[2] ?? 100_000)
const dataFile = join(mkdtempSync(join(tmpdir(), 'cc-open-')), 'o.db')
const { child, info } = await startRelayChild<Info>(dataFile, 1)
child.kill('SIGKILL')
await new Promise((r) => child.once('exit', r))

// Write the history straight into the update log, one compacted update per segment.
const segments = Math.ceil(total / DEFAULT_SEGMENT_SIZE)
const db = openDb(dataFile)
const insert = db.$client.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)')
const author = info.members[0]!.id
let historyBytes = 0
const t0 = performance.now()
for (let s = 0; s < segments; s++) {
  const doc = new Y.Doc()
  initSegment(doc, info.conv, s)
  const n = Math.min(DEFAULT_SEGMENT_SIZE, total - s * DEFAULT_SEGMENT_SIZE)
  for (let i = 0; i < n; i++) appendMessage(doc, { author, body: `message ${s * DEFAULT_SEGMENT_SIZE + i}: ${'status update text '.repeat(3)}`, createdAt: 1_700_000_000_000 + s * DEFAULT_SEGMENT_SIZE + i })
  if (s < segments - 1) sealSegment(doc)
  const update = Y.encodeStateAsUpdate(doc)
  historyBytes += update.byteLength
  insert.run(docName.conv(info.conv, s), Buffer.from(update))
}
db.$client.prepare('UPDATE conversations SET live_segment = ? WHERE id = ?').run(segments - 1, info.conv)
db.$client.close()
console.log(`seeded ${total} messages in ${segments} segments (${(historyBytes / 1e6).toFixed(1)} MB of history) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

const { child: relay, info: again } = await startRelayChild<Info>(dataFile, 1)
const token = again.members[0]!.token
// The relay restarted: reuse the new member's token on the existing conversation by joining it.
const db2 = openDb(dataFile)
db2.$client.prepare('INSERT INTO conversation_members (conversation_id, member_id, joined_at) VALUES (?, ?, ?)').run(info.conv, again.members[0]!.id, Date.now())
db2.$client.close()

async function open(segment: number, label: string) {
  let bytes = 0
  class CountingSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.on('message', (data: Buffer) => { bytes += data.byteLength })
    }
  }
  const doc = new Y.Doc()
  const start = performance.now()
  const p = new WebsocketProvider(again.url, docName.conv(info.conv, segment), doc, { WebSocketPolyfill: CountingSocket as never, disableBc: true, params: { token } })
  await new Promise<void>((r) => p.once('sync', () => r()))
  const ms = performance.now() - start
  console.log(`${label}: segment ${segment}, ${listMessages(doc).length} messages, ${fmt(ms)}, ${(bytes / 1024).toFixed(0)} KiB received (cold: relay loads it from SQLite)`)
  p.destroy()
}

await open(segments - 1, 'open conversation (live segment)')
await open(segments - 2, 'scroll back one segment')
await open(0, 'jump to the oldest segment')
relay.kill('SIGKILL')
process.exit(0)
