// Seeding for the benches that start a server on a prepared data dir (post.ts, start.ts).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as Y from 'yjs'
import { openDb } from '@circlechat/db'
import { appendMessage, docName, initSegment, listMessages, sealSegment, DEFAULT_SEGMENT_SIZE } from '@circlechat/model'

export interface Info { url: string; conversationId: string; members: Array<{ id: string; cookie: string }> }

/** People and the channel, seeded by bench/lib/gateway-child.ts into `dataDir`, which then exits. */
export async function seedPeople(dataDir: string, count: number): Promise<Info> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'gateway-child.ts'), String(count), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const info = JSON.parse(await new Promise<string>((resolve) => lines.once('line', resolve))) as Info
  lines.on('line', () => {})
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return info
}

/** `total` top-level messages by the first `authors` members: one compacted update per segment and its index rows. */
export function seedHistory(dataDir: string, info: Info, total: number, authors: number): void {
  const db = openDb(join(dataDir, 'circlechat.db'))
  const sqlite = db.$client
  const insertDoc = sqlite.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)')
  const insertRow = sqlite.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
    VALUES (?, ?, ?, NULL, ?, ?, 0, ?, '[]', '[]', '[]')`)
  const full = Math.floor(total / DEFAULT_SEGMENT_SIZE)
  const segments = Math.ceil(total / DEFAULT_SEGMENT_SIZE)
  const t0 = performance.now()
  const start = Date.now() - total - 60_000
  for (let s = 0; s < segments; s++) {
    const doc = new Y.Doc()
    initSegment(doc, info.conversationId, s)
    const n = Math.min(DEFAULT_SEGMENT_SIZE, total - s * DEFAULT_SEGMENT_SIZE)
    for (let i = 0; i < n; i++) {
      const k = s * DEFAULT_SEGMENT_SIZE + i
      appendMessage(doc, { author: info.members[k % authors]!.id, body: `history ${k}: ${'status update text '.repeat(3)}`, createdAt: start + k })
    }
    if (s < full) sealSegment(doc)
    const name = docName.conv(info.conversationId, s)
    sqlite.transaction(() => {
      insertDoc.run(name, Buffer.from(Y.encodeStateAsUpdate(doc)))
      for (const m of listMessages(doc)) insertRow.run(m.id, info.conversationId, name, m.author, m.createdAt, m.body)
    })()
  }
  // A full last segment is sealed: the next post opens a new one, as the relay would have.
  sqlite.prepare('UPDATE conversations SET live_segment = ? WHERE id = ?').run(full === segments ? full : segments - 1, info.conversationId)
  sqlite.close()
  console.log(`seeded ${total.toLocaleString('en')} messages in ${segments} segments in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
