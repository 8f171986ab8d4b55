// Notes agent over the peer runtime: the notes behaviour of lib/notes.ts (remember, replace,
// forget, list) without packets. It syncs its conversations' live segments and the threads under
// their messages, answers a mention in the thread it was made in (a top-level one in a new thread
// under it), and keeps the notes in its memory through the agent REST API.
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/notes-peer-agent.ts
//
// Provision the agent with adapter `peer`. A thread (`thread:<rootId>`, the replies, each with
// parentId = root) is opened when its root's threadCount grows or to answer under a root; the
// server counts the reply on the root itself. At most MAX_THREADS stay open, the least recently
// used is closed, and MAX_HANDLED message ids are remembered so none is answered twice.
import * as Y from 'yjs'
import { appendMessage, docName, listMessages, messagesOf, readMessage } from '@circlechat/model'
import type { Message } from '@circlechat/model'
import { NOTES_KEY, notesTurn } from './lib/notes.js'
import { startPeerAgent } from './lib/peer.js'
import type { JoinedConversation, Peer, PeerDoc } from './lib/peer.js'

const MAX_THREADS = 200
const MAX_HANDLED = 5000

/** Conversation id → its live segment. */
const segments = new Map<string, PeerDoc>()
/** Root id → its thread, least recently used first. */
const threads = new Map<string, { doc: PeerDoc; conversationId: string }>()
/** Ids of messages already answered or passed over, oldest first. */
const handled = new Set<string>()
/** Answers go out one at a time, so a conversation's notes change in the order they were asked. */
let queue = Promise.resolve()

/** Calls `onNew` for every message added to `d` after its first sync, and for those past the first `skip` it held then. */
function watchMessages(d: PeerDoc, skip: number, onNew: (m: Message) => void) {
  let ready = false
  messagesOf(d.doc).observe((event) => {
    if (!ready) return
    for (const item of event.changes.added) for (const v of item.content.getContent()) if (v instanceof Y.Map) onNew(readMessage(v))
  })
  void d.synced.then(() => {
    ready = true
    for (const m of listMessages(d.doc).slice(skip)) onNew(m)
  })
}

function watchSegment(peer: Peer, conv: JoinedConversation): PeerDoc {
  const seg = peer.open(docName.conv(conv.id, conv.liveSegment))
  watchMessages(seg, Infinity, (m) => consider(peer, m, conv.id))
  // A root's threadCount grows once a reply is in its thread: open the thread, skipping the
  // replies that were counted before (the server counts every reply, so those are old news).
  messagesOf(seg.doc).observeDeep((events) => {
    for (const e of events) {
      const counted = e.changes.keys.get('threadCount')
      if (counted && e.target instanceof Y.Map) openThread(peer, readMessage(e.target).id, conv.id, Number(counted.oldValue ?? 0))
    }
  })
  void seg.synced.then(() => console.log(`notes-peer-agent synced ${conv.id}`))
  return seg
}

/** The thread under `rootId`, opened if need be (its first `skip` replies then count as seen), now the most recently used. */
function openThread(peer: Peer, rootId: string, conversationId: string, skip: number): PeerDoc {
  const open = threads.get(rootId)
  threads.delete(rootId)
  const thread = open ?? { doc: peer.open(docName.thread(rootId)), conversationId }
  threads.set(rootId, thread)
  if (!open) {
    watchMessages(thread.doc, skip, (m) => consider(peer, m, conversationId))
    for (const [id, t] of threads) {
      if (threads.size <= MAX_THREADS) break
      t.doc.close()
      threads.delete(id)
    }
  }
  return thread.doc
}

function consider(peer: Peer, m: Message, conversationId: string) {
  if (handled.has(m.id)) return
  handled.add(m.id)
  for (const id of handled) {
    if (handled.size <= MAX_HANDLED) break
    handled.delete(id)
  }
  // Never answer yourself (that loops); answer what mentions you.
  if (m.author === peer.me.memberId || m.deleted || !m.mentions.includes(peer.me.memberId)) return
  queue = queue.then(() => answer(peer, m, conversationId)).catch((e: Error) => console.error(`notes-peer-agent: ${e.message}`))
}

async function answer(peer: Peer, m: Message, conversationId: string) {
  const turn = notesTurn(m.body, peer.me.handle, conversationId)
  const notes = turn.lists ? await readNotes(peer, conversationId) : undefined
  if (turn.change) {
    const res = await peer.api.act(turn.change)
    if (res.errors.length) throw new Error(`notes unchanged: ${res.errors.join('; ')}`)
  }
  // A reply answers in its root's thread, a top-level message in a thread under it. The reply
  // came from its thread, so whatever that holds now is old news if it has to be reopened.
  const root = m.parentId ?? m.id
  const thread = openThread(peer, root, conversationId, m.parentId ? Infinity : m.threadCount)
  await thread.synced
  appendMessage(thread.doc, { author: peer.me.memberId, body: turn.answer(notes), parentId: root })
}

async function readNotes({ api }: Peer, conversationId: string): Promise<unknown> {
  const { memory } = (await api.getMemory({ scope: 'conversation', scopeId: conversationId, key: NOTES_KEY })) as { memory: Array<{ value: unknown }> }
  return memory[0]?.value
}

await startPeerAgent('notes-peer-agent', (peer, joined) => {
  const live = new Map(joined.map((c) => [c.id, docName.conv(c.id, c.liveSegment)]))
  // A sealed segment takes no new messages and a conversation left shows none: close their docs.
  for (const [id, seg] of segments) {
    if (live.get(id) === seg.name) continue
    seg.close()
    segments.delete(id)
  }
  for (const [id, t] of threads) {
    if (live.has(t.conversationId)) continue
    t.doc.close()
    threads.delete(id)
  }
  for (const c of joined) if (!segments.has(c.id)) segments.set(c.id, watchSegment(peer, c))
})
