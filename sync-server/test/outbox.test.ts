import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendMessage, docName, editMessage, findMessage, listMessages, toggleReaction } from '@circlechat/model'
import { startHarness, until, type Harness } from './harness.js'
import { OutboxClient } from './outbox-client.js'

/**
 * A reconnect lands the backlog: a client offline for a day's work sends it through the web
 * app's outbox (one update per change, after the sync exchange) and every change lands once.
 */
let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h.close()
})

const indexed = (conv: string) =>
  h.db.$client.prepare('SELECT id, body, edited_at AS editedAt, reactions FROM messages WHERE conversation_id = ?').all(conv) as Array<{ id: string; body: string; editedAt: number | null; reactions: string }>

describe('outbox: a reconnect lands the backlog', () => {
  it('500 messages, 100 edits and 50 reactions across 5 conversations land exactly once', async () => {
    const alice = h.seedMember()
    const bob = h.seedMember()
    const convs = Array.from({ length: 5 }, () => h.seedConversation([alice.memberId, bob.memberId]))
    const clients = convs.map((c) => new OutboxClient(h.url, docName.conv(c, 0), alice.token))
    await until(() => clients.every((c) => c.provider.synced), 5000, 'first sync')
    for (const c of clients) c.offline()

    const expected = new Map<string, { body: string; edited: boolean; reaction: boolean }>()
    for (const [ci, c] of clients.entries()) {
      const ids: string[] = []
      for (let i = 0; i < 100; i++) {
        const body = `conv ${ci} message ${i}`
        const id = appendMessage(c.doc, { author: alice.memberId, body })
        ids.push(id)
        expected.set(id, { body, edited: false, reaction: false })
      }
      // 20 edits: 10 messages edited twice (a chain of edits on one key).
      for (let i = 0; i < 20; i++) {
        const id = ids[i % 10]!
        const body = `conv ${ci} message ${i % 10} edit ${i}`
        editMessage(c.doc, id, body, [])
        expected.set(id, { ...expected.get(id)!, body, edited: true })
      }
      for (let i = 0; i < 10; i++) {
        toggleReaction(c.doc, ids[50 + i]!, alice.memberId, '👍')
        expected.get(ids[50 + i]!)!.reaction = true
      }
      expect(c.outbox.pending).toBe(130)
    }

    for (const c of clients) c.online()
    await until(() => clients.every((c) => c.outbox.pending === 0), 60_000, 'outbox drained')

    for (const [ci, conv] of convs.entries()) {
      expect(clients[ci]!.refused).toEqual([])
      const server = listMessages(await h.sync.getDoc(docName.conv(conv, 0)))
      expect(server).toHaveLength(100)
      expect(new Set(server.map((m) => m.id)).size).toBe(100)
      const rows = indexed(conv)
      expect(rows).toHaveLength(100)
      for (const m of server) {
        const want = expected.get(m.id)!
        expect(m.body).toBe(want.body)
        expect(m.editedAt !== null).toBe(want.edited)
        expect(m.reactions.length).toBe(want.reaction ? 1 : 0)
        const row = rows.find((r) => r.id === m.id)!
        expect(row.body).toBe(want.body)
        expect(JSON.parse(row.reactions).length).toBe(want.reaction ? 1 : 0)
      }
    }
    for (const c of clients) c.destroy()
  }, 90_000)

  it('a refused change in the middle is set aside and the rest still lands', async () => {
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const name = docName.conv(conv, 0)
    const bobs = new OutboxClient(h.url, name, bob.token)
    await until(() => bobs.provider.synced, 5000, 'bob sync')
    const bobMsg = appendMessage(bobs.doc, { author: bob.memberId, body: 'bob wrote this' })
    await until(() => bobs.outbox.pending === 0, 5000, 'bob landed')

    const a = new OutboxClient(h.url, name, alice.token)
    await until(() => a.provider.synced && findMessage(a.doc, bobMsg) !== null, 5000, 'alice sync')
    a.offline()
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push(appendMessage(a.doc, { author: alice.memberId, body: `before ${i}` }))
    editMessage(a.doc, bobMsg, 'alice rewrote bob', []) // not hers: refused notAuthor
    for (let i = 0; i < 20; i++) ids.push(appendMessage(a.doc, { author: alice.memberId, body: `after ${i}` }))
    editMessage(a.doc, ids[3]!, 'before 3, edited', [])
    editMessage(a.doc, ids[30]!, 'after 10, edited', [])
    toggleReaction(a.doc, ids[25]!, alice.memberId, '🎉')
    a.online()

    await until(() => a.refused.length === 1 && a.outbox.pending === 0 && a.provider.synced, 20_000, 'refusal handled and outbox drained')
    expect(a.refused[0]!.reason).toBe('notAuthor')
    expect(a.refused[0]!.texts).toEqual(['alice rewrote bob'])
    const server = listMessages(await h.sync.getDoc(name))
    expect(server).toHaveLength(41)
    expect(server.find((m) => m.id === bobMsg)!.body).toBe('bob wrote this')
    const bodies = new Map(server.map((m) => [m.id, m.body]))
    for (const [i, id] of ids.entries()) {
      const want = i === 3 ? 'before 3, edited' : i === 30 ? 'after 10, edited' : i < 20 ? `before ${i}` : `after ${i - 20}`
      expect(bodies.get(id)).toBe(want)
    }
    expect(server.find((m) => m.id === ids[25])!.reactions).toEqual([{ memberId: alice.memberId, emoji: '🎉' }])
    expect(indexed(conv)).toHaveLength(41)
    // The reopened copy matches the server; nothing is pending or refused again.
    expect(listMessages(a.doc).map((m) => m.body).sort()).toEqual(server.map((m) => m.body).sort())
    a.destroy()
    bobs.destroy()
  }, 30_000)

  it('a rate-limited backlog is kept and retried, not set aside', async () => {
    const slow = await startHarness({ config: { catchUpMessages: 0, messageBurst: 20, messagesPerSecond: 5 } })
    try {
      const alice = slow.seedMember()
      const conv = slow.seedConversation([alice.memberId])
      const name = docName.conv(conv, 0)
      const a = new OutboxClient(slow.url, name, alice.token)
      await until(() => a.provider.synced, 5000, 'sync')
      a.offline()
      for (let i = 0; i < 30; i++) appendMessage(a.doc, { author: alice.memberId, body: `burst ${i}` })
      a.online()
      await until(() => a.outbox.pending === 0, 20_000, 'outbox drained after a retry')
      expect(a.refused).toEqual([])
      expect(listMessages(await slow.sync.getDoc(name)).map((m) => m.body)).toEqual(Array.from({ length: 30 }, (_, i) => `burst ${i}`))
      a.destroy()
    } finally {
      await slow.close()
    }
  }, 30_000)
})
