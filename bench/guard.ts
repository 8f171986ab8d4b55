// bench/guard: CPU µs the guard spends per update, on a 1,000-message and a 100,000-message
// conversation doc: an accepted one-message update, refused forged ones (another author, a
// duplicate key, a delete beyond the server's state) and a 200-message offline batch. The
// guard decodes the update and resolves it through the live doc, so the 100k/1k ratio should
// stay near 1 (O(update), not O(doc)). Also guard + apply for the accepted post.
// Run: npx tsx bench/guard.ts
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { appendMessage, editMessage, docName, initSegment, messagesOf, newId, REACTIONS } from '@circlechat/model'
import { guardUpdate, type GuardContext } from '@circlechat/sync-server'

const alice = newId('member')
const bob = newId('member')
const conv = newId('conversation')

function conversation(size: number): Y.Doc {
  const doc = new Y.Doc()
  initSegment(doc, conv, 0)
  doc.transact(() => {
    const maps: Y.Map<unknown>[] = []
    for (let i = 0; i < size; i++) {
      const m = new Y.Map<unknown>()
      m.set('id', newId('message'))
      m.set('author', i % 2 ? alice : bob)
      m.set('createdAt', Date.now() - (size - i) * 1000)
      m.set('body', `message ${i} with a typical amount of text in it`)
      m.set(REACTIONS, new Y.Map())
      maps.push(m)
    }
    messagesOf(doc).push(maps)
  })
  return doc
}

/** The update `edit` makes on a client copy of `doc` (a fresh client id). */
function updateFrom(doc: Y.Doc, edit: (d: Y.Doc) => void): Uint8Array {
  const client = new Y.Doc()
  Y.applyUpdate(client, Y.encodeStateAsUpdate(doc))
  const sv = Y.encodeStateVector(client)
  edit(client)
  return Y.encodeStateAsUpdate(client, sv)
}

const ctx = (sender: string): GuardContext => ({
  docName: { kind: 'conv', conversationId: conv, segment: 0 }, sender, isAdmin: false, now: Date.now(), joinedAt: 0,
  maxUpdateBytes: 1024 * 1024, acceptsNewMessages: true, idTaken: () => false, clientOwner: () => undefined
})

/** CPU µs (user + system, from the kernel's accounting) per call of `fn`, over enough calls. */
function cpuMicros(fn: () => void, minCalls = 2000): number {
  for (let i = 0; i < 50; i++) fn()
  const start = process.cpuUsage()
  let calls = 0
  while (calls < minCalls || process.cpuUsage(start).user < 200_000) {
    fn()
    calls++
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / calls
}

function expectResult(doc: Y.Doc, update: Uint8Array, sender: string, ok: boolean) {
  const r = guardUpdate(doc, update, ctx(sender))
  if (r.ok !== ok) throw new Error(`expected ${ok ? 'accepted' : 'refused'}, got ${JSON.stringify(r)}`)
}

const rows: Array<{ label: string; bytes: number; micros: number[] }> = []
const sizes = [1000, 100_000]
const docs = sizes.map((n) => {
  const t = Date.now()
  const d = conversation(n)
  console.log(`built a ${n}-message doc in ${Date.now() - t} ms (${(Y.encodeStateAsUpdate(d).byteLength / 1024 / 1024).toFixed(1)} MiB)`)
  return d
})

const cases: Array<{ label: string; ok: boolean; sender: string; make: (doc: Y.Doc) => Uint8Array }> = [
  { label: 'accepted: one new message', ok: true, sender: bob, make: (doc) => updateFrom(doc, (d) => appendMessage(d, { author: bob, body: 'hello there' })) },
  { label: 'accepted: edit of an own message', ok: true, sender: bob, make: (doc) => updateFrom(doc, (d) => editMessage(d, String(messagesOf(d).get(messagesOf(d).length - 2).get('id')), 'edited', [])) },
  { label: 'refused: message as another author', ok: false, sender: bob, make: (doc) => updateFrom(doc, (d) => appendMessage(d, { author: alice, body: 'I am alice' })) },
  { label: 'refused: editing someone else\'s message', ok: false, sender: bob, make: (doc) => updateFrom(doc, (d) => messagesOf(d).get(messagesOf(d).length - 1).set('body', 'pwned')) },
  {
    label: 'refused: delete beyond the server\'s state', ok: false, sender: bob,
    make: (doc) => {
      const u = updateFrom(doc, (d) => appendMessage(d, { author: bob, body: 'cover' }))
      const { structs } = Y.decodeUpdate(u)
      const client = structs[0]!.id.client
      // Widen the update's delete set past what it brings.
      return Y.mergeUpdates([u, deleteOnly(client, structs.reduce((a, s) => Math.max(a, s.id.clock + s.length), 0), 100)])
    }
  },
  {
    label: 'accepted: 200-message offline batch', ok: true, sender: bob,
    make: (doc) => updateFrom(doc, (d) => {
      for (let i = 0; i < 200; i++) {
        const id = appendMessage(d, { author: bob, body: `offline message ${i}` })
        if (i % 10 === 0) editMessage(d, id, `offline message ${i}, edited`, [])
      }
    })
  },
  {
    label: 'refused: 200-message batch, last one forged', ok: false, sender: bob,
    make: (doc) => updateFrom(doc, (d) => {
      for (let i = 0; i < 199; i++) appendMessage(d, { author: bob, body: `offline message ${i}` })
      appendMessage(d, { author: alice, body: 'forged' })
    })
  }
]

/** An update holding only a delete range of `len` clocks of `client` from `clock`, written with
 *  Yjs's own update encoder. */
function deleteOnly(client: number, clock: number, len: number): Uint8Array {
  const e = new Y.UpdateEncoderV1()
  encoding.writeVarUint(e.restEncoder, 0)
  encoding.writeVarUint(e.restEncoder, 1)
  e.resetDsCurVal()
  encoding.writeVarUint(e.restEncoder, client)
  encoding.writeVarUint(e.restEncoder, 1)
  e.writeDsClock(clock)
  e.writeDsLen(len)
  return e.toUint8Array()
}

function measureCases() {
  rows.length = 0
  for (const c of cases) {
    const micros: number[] = []
    let bytes = 0
    for (const doc of docs) {
      const update = c.make(doc)
      bytes = update.byteLength
      expectResult(doc, update, c.sender, c.ok)
      micros.push(cpuMicros(() => guardUpdate(doc, update, ctx(c.sender)), c.label.includes('200') ? 200 : 2000))
    }
    rows.push({ label: c.label, bytes, micros })
  }
}
measureCases() // warm-up: the JIT would otherwise favour whichever doc is measured second
measureCases()

// Guard + apply of posts to the live doc. The updates are made first, so a client's own cost
// (Y.Array push walks the list) is not counted.
const applyRow = { label: 'accepted post, guard + apply to the live doc', bytes: 0, micros: [] as number[] }
for (const doc of docs) {
  const client = new Y.Doc()
  Y.applyUpdate(client, Y.encodeStateAsUpdate(doc))
  const updates: Uint8Array[] = []
  client.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < 3000; i++) appendMessage(client, { author: bob, body: 'hello there' })
  const own = { ...ctx(bob), clientOwner: (c: number) => (c === client.clientID ? bob : undefined) }
  const start = process.cpuUsage()
  for (const update of updates) {
    const r = guardUpdate(doc, update, own)
    if (!r.ok) throw new Error(JSON.stringify(r))
    Y.applyUpdate(doc, update)
  }
  const used = process.cpuUsage(start)
  applyRow.bytes = updates[0]!.byteLength
  applyRow.micros.push((used.user + used.system) / updates.length)
}
rows.push(applyRow)

console.log(`\nguard CPU µs per update (${docName.conv(conv, 0)}-shaped doc)`)
console.log(`${'case'.padEnd(48)} ${'bytes'.padStart(7)} ${'1k msgs'.padStart(9)} ${'100k msgs'.padStart(10)} ${'ratio'.padStart(6)}`)
for (const r of rows) {
  const [small, large] = r.micros as [number, number]
  console.log(`${r.label.padEnd(48)} ${String(r.bytes || '').padStart(7)} ${small.toFixed(1).padStart(9)} ${large.toFixed(1).padStart(10)} ${(large / small).toFixed(2).padStart(6)}`)
}
process.exit(0)
