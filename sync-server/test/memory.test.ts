import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { appendMessage, docName, listMessages, newId, readSegmentMeta, toggleReaction } from '@circlechat/model'
import type { Origin } from '../src/index.js'
import { startHarness, until, synced, watchRelay, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

// A doc whose last commit is still syncing when its last client leaves is evicted by the next
// pass (a load, a disconnect, or the sweep every sealedIdleMs / 2): short here, 10 s by default.

const server: Origin = { source: 'server', reason: 'test' }
const live = (name: string) => h.sync.liveDocs().names.includes(name)
const storedMessages = (conv: string) => h.db.$client.prepare('SELECT count(*) FROM messages WHERE conversation_id = ?').pluck().get(conv) as number

/** Loads `count` other docs (each load checks the budget), so anything evictable goes. */
async function pressure(count = 3) {
  for (let i = 0; i < count; i++) {
    await h.sync.getDoc(docName.conv(newId('conversation'), 0))
    await new Promise((r) => setTimeout(r, 20)) // the new segment's init commits
  }
}

describe('live docs within a memory budget', () => {
  it('never evicts a connected doc; evicts it once its last client leaves', async () => {
    h = await startHarness({ config: { docBudgetBytes: 1, docGraceMs: 0, sealedIdleMs: 200 } })
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    const name = docName.conv(conv, 0)
    const a = h.connect(name, alice.token)
    await synced(a)
    appendMessage(a.doc, { author: alice.memberId, body: 'kept while connected' })
    await until(() => storedMessages(conv) === 1, 5000, 'message stored')
    const instance = await h.sync.getDoc(name)
    await pressure()
    await until(() => h.sync.liveDocs().docs === 1, 5000, 'the unconnected docs evicted')
    expect(live(name)).toBe(true)
    expect(await h.sync.getDoc(name)).toBe(instance)

    a.disconnect()
    await until(() => !live(name), 5000, 'eviction after the last client left')
    await until(() => instance.isDestroyed, 5000, 'old instance destroyed')
  })

  it('reloads an evicted doc identical, and clients reconnecting converge', async () => {
    h = await startHarness({ config: { docBudgetBytes: 1, docGraceMs: 0, sealedIdleMs: 200 } })
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const name = docName.conv(conv, 0)
    const a = h.connect(name, alice.token)
    const relayA = watchRelay(a)
    await synced(a)
    const ids = [1, 2, 3].map((i) => appendMessage(a.doc, { author: alice.memberId, body: `before ${i}` }))
    toggleReaction(a.doc, ids[0]!, alice.memberId, '👍')
    await until(() => h.db.$client.prepare('SELECT reactions FROM messages WHERE id = ?').pluck().get(ids[0]) !== '[]', 5000, 'stored')
    const before = await h.sync.getDoc(name)
    const vector = Y.encodeStateVector(before)
    const content = listMessages(before)

    a.disconnect()
    await until(() => !live(name), 5000, 'eviction')
    appendMessage(a.doc, { author: alice.memberId, body: 'written offline' })
    const reloaded = await h.sync.getDoc(name)
    expect(reloaded).not.toBe(before)
    expect(Y.encodeStateVector(reloaded)).toEqual(vector)
    expect(listMessages(reloaded)).toEqual(content)

    const b = h.connect(name, bob.token)
    await synced(b)
    a.connect()
    const bodies = (d: Y.Doc) => listMessages(d).map((m) => m.body)
    await until(() => bodies(b.doc).includes('written offline') && bodies(a.doc).length === 4, 5000, 'convergence')
    expect(bodies(a.doc)).toEqual(bodies(b.doc))
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc))
    await until(() => storedMessages(conv) === 4, 5000, 'offline message stored')
    expect(relayA.rejects).toEqual([])
  })

  it('holds the budget as many docs are opened and closed, and loses nothing', async () => {
    const budget = 512 * 1024
    h = await startHarness({ config: { docBudgetBytes: budget, docGraceMs: 0, sealedIdleMs: 200 } })
    const alice = h.seedMember()
    const convs = Array.from({ length: 24 }, () => h.seedConversation([alice.memberId]))
    let peak = 0
    for (const conv of convs) {
      const name = docName.conv(conv, 0)
      const a = h.connect(name, alice.token)
      await synced(a)
      for (let i = 0; i < 10; i++) appendMessage(a.doc, { author: alice.memberId, body: `${conv} ${i} ${'text '.repeat(40)}` })
      await until(() => storedMessages(conv) === 10, 5000, 'stored')
      a.destroy()
      await until(() => h.sync.liveDocs().heapBytes <= budget, 5000, 'within budget after close')
      peak = Math.max(peak, h.sync.liveDocs().docs)
    }
    // Each doc is ~60 KiB estimated: the budget keeps a handful, not all 24.
    expect(peak).toBeLessThan(12)
    for (const conv of convs) {
      expect(storedMessages(conv)).toBe(10)
      expect(listMessages(await h.sync.getDoc(docName.conv(conv, 0)))).toHaveLength(10)
    }
  })

  it('lands every server edit while docs are evicted around it', async () => {
    h = await startHarness({ config: { docBudgetBytes: 1, docGraceMs: 0, sealedIdleMs: 200 } })
    const alice = h.seedMember()
    const convs = Array.from({ length: 8 }, () => h.seedConversation([alice.memberId]))
    const edits = convs.flatMap((conv) => [0, 1, 2, 3, 4].map((i) =>
      h.sync.transact(docName.conv(conv, 0), server, (d) => appendMessage(d, { author: alice.memberId, body: `edit ${i}` }))))
    await Promise.all(edits)
    for (const conv of convs) {
      expect(storedMessages(conv)).toBe(5)
      expect(listMessages(await h.sync.getDoc(docName.conv(conv, 0)))).toHaveLength(5)
    }
  })

  it("keeps a doc carrying the server's own presence", async () => {
    h = await startHarness({ config: { docBudgetBytes: 1, docGraceMs: 0, sealedIdleMs: 200 } })
    const name = docName.conv(newId('conversation'), 0)
    await h.sync.setServerPresence(name, { thinking: ['m_agent'] })
    await pressure()
    expect(live(name)).toBe(true)
    await h.sync.setServerPresence(name, null)
    await pressure()
    expect(live(name)).toBe(false)
  })

  it('does not evict a doc used within the grace period', async () => {
    h = await startHarness({ config: { docBudgetBytes: 1, docGraceMs: 60_000 } })
    const name = docName.conv(newId('conversation'), 0)
    const doc = await h.sync.getDoc(name)
    await pressure()
    expect(await h.sync.getDoc(name)).toBe(doc)
  })

  it('unloads a sealed segment nobody is connected to after sealedIdleMs', async () => {
    h = await startHarness({ segmentSize: 3, config: { sealedIdleMs: 200 } })
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const first = docName.conv(conv, 0)
    const b = h.connect(first, bob.token)
    await synced(b)
    for (let i = 0; i < 3; i++) await h.sync.transact(first, server, (d) => appendMessage(d, { author: alice.memberId, body: `m${i}` }))
    await until(() => readSegmentMeta(b.doc)?.sealed === true && live(docName.conv(conv, 1)), 5000, 'sealed, next segment open')
    await new Promise((r) => setTimeout(r, 500))
    expect(live(first)).toBe(true) // bob is reading it

    b.destroy()
    await until(() => !live(first), 5000, 'sealed segment unloaded')
    expect(live(docName.conv(conv, 1))).toBe(true) // the live segment stays (within the budget)
    const reopened = await h.sync.getDoc(first)
    expect(readSegmentMeta(reopened)?.sealed).toBe(true)
    expect(listMessages(reopened).map((m) => m.body)).toEqual(['m0', 'm1', 'm2'])
  })
})
