// bench/room-changes: CPU µs the relay's room spends finding which messages a transaction created
// (for the message index and the guard's after-apply check), per one-message update applied to a
// conversation segment of 10, 1,000 and 10,000 messages. "event.changes" is how it was found
// before (yjs walks the whole array to build it); "room" is Room's walk over the transaction's
// own structs. Both run in this one process, interleaved, so the ratio holds on a noisy box.
// Run: npx tsx bench/room-changes.ts
import * as Y from 'yjs'
import { appendMessage, docName, initSegment, messagesOf, newId } from '@circlechat/model'
import { Room } from '../sync-server/src/room.js'

const author = newId('member')
const conv = newId('conversation')
const POSTS = 2000

/** One-message updates, each made on a client copy that has seen the previous ones. */
function workload(size: number): { base: Uint8Array; posts: Uint8Array[] } {
  const client = new Y.Doc()
  initSegment(client, conv, 0)
  client.transact(() => {
    for (let i = 0; i < size; i++) appendMessage(client, { author, body: `message ${i} with a typical amount of text in it` })
  })
  const base = Y.encodeStateAsUpdate(client)
  const posts: Uint8Array[] = []
  for (let i = 0; i < POSTS; i++) {
    const sv = Y.encodeStateVector(client)
    appendMessage(client, { author, body: `new message ${i}` })
    posts.push(Y.encodeStateAsUpdate(client, sv))
  }
  return { base, posts }
}

/** CPU µs per applied post: the doc's own apply cost is the same on both sides. */
function run(kind: 'event.changes' | 'room', base: Uint8Array, posts: Uint8Array[]): number {
  let found = 0
  let doc: Y.Doc
  let take = () => {}
  if (kind === 'room') {
    const room = new Room(docName.conv(conv, 0), { kind: 'conv', conversationId: conv, segment: 0 }, conv)
    doc = room.doc
    take = () => void (found += room.takeChanges().created.length)
  } else {
    doc = new Y.Doc()
    messagesOf(doc).observeDeep((events) => {
      for (const event of events) if (event.target === messagesOf(doc)) for (const item of event.changes.added) if ((item.content as Y.ContentType).type instanceof Y.Map) found++
    })
  }
  Y.applyUpdate(doc, base)
  take()
  found = 0
  const start = process.cpuUsage()
  for (const post of posts) {
    Y.applyUpdate(doc, post)
    take()
  }
  const used = process.cpuUsage(start)
  if (found !== posts.length) throw new Error(`${kind} found ${found} new messages of ${posts.length}`)
  doc.destroy()
  return (used.user + used.system) / posts.length
}

for (const size of [10, 1000, 10_000]) {
  const { base, posts } = workload(size)
  const rounds = { 'event.changes': [] as number[], room: [] as number[] }
  for (let r = 0; r < 5; r++) {
    rounds['event.changes'].push(run('event.changes', base, posts))
    rounds.room.push(run('room', base, posts))
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const before = median(rounds['event.changes'])
  const after = median(rounds.room)
  console.log(`segment growing from ${size.toLocaleString('en')} to ${(size + POSTS).toLocaleString('en')} messages: apply + find created, event.changes ${before.toFixed(1)} µs, room ${after.toFixed(1)} µs per post (${(before / after).toFixed(2)}×), median of 5 × ${POSTS}`)
}
