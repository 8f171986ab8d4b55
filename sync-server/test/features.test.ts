import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  appendMessage, docName, findMessage, listMessages, markRead, markThreadRead, meReadsOf, meStarsOf, meThreadReadsOf, meThreadsOf, meUnreadOf,
  readSegmentMeta, toggleReaction
} from '@circlechat/model'
import { startHarness, until, synced, watchRelay, rawClient, pairInConversation, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

describe('reactions, threads and private state', () => {
  beforeEach(async () => { h = await startHarness() })

  it('OWN4: each member toggles only their own reaction, live for others', async () => {
    const { alice, bob, a, b, relayB } = await pairInConversation(h)
    const id = appendMessage(a.doc, { author: alice.memberId, body: 'ship it?' })
    await until(() => findMessage(b.doc, id) !== null)
    toggleReaction(b.doc, id, bob.memberId, '🚀')
    toggleReaction(a.doc, id, alice.memberId, '🚀')
    await until(() => listMessages(a.doc)[0]!.reactions.length === 2 && listMessages(b.doc)[0]!.reactions.length === 2, 5000, 'both reactions')
    toggleReaction(b.doc, id, bob.memberId, '🚀')
    await until(() => listMessages(a.doc)[0]!.reactions.length === 1, 5000, 'bob removed his')
    expect(relayB.rejects).toEqual([])
    await until(() => (h.db.$client.prepare('SELECT reactions FROM messages WHERE id = ?').pluck().get(id) as string) === JSON.stringify([{ memberId: alice.memberId, emoji: '🚀' }]))
  })

  it('ACC3: thread replies are guarded and counted on the root', async () => {
    const alice = h.seedMember()
    const bob = h.seedMember()
    const eve = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const a = h.connect(docName.conv(conv, 0), alice.token)
    await synced(a)
    const root = appendMessage(a.doc, { author: alice.memberId, body: 'thread root' })
    await until(() => (h.db.$client.prepare('SELECT count(*) FROM messages WHERE id = ?').pluck().get(root) as number) === 1)
    await expect(rawClient(h.url, docName.thread(root), eve.token)).rejects.toThrow('HTTP 403')

    const t = h.connect(docName.thread(root), bob.token)
    const relay = watchRelay(t)
    await synced(t)
    appendMessage(t.doc, { author: bob.memberId, body: 'first reply', parentId: root })
    await until(() => listMessages(a.doc)[0]!.threadCount === 1, 5000, 'reply count on root')
    expect(listMessages(a.doc)[0]!.lastReplyAt).toBeGreaterThan(0)
    expect(h.db.$client.prepare('SELECT parent_id FROM messages WHERE body = ?').pluck().get('first reply')).toBe(root)

    appendMessage(t.doc, { author: bob.memberId, body: 'no parent' })
    await until(() => relay.rejects.length === 1, 5000, 'rejection')
    expect(relay.rejects[0]!.reason).toBe('invalidField')
  })

  it('OWN7: a member writes read markers in their own doc, never unread counts', async () => {
    const alice = h.seedMember()
    const bob = h.seedMember()
    await expect(rawClient(h.url, docName.me(alice.memberId), bob.token)).rejects.toThrow('HTTP 403')
    const me = h.connect(docName.me(alice.memberId), alice.token)
    const relay = watchRelay(me)
    await synced(me)
    markRead(me.doc, 'c_aaaaaaaaaaaaaaaa', 1234)
    const server = await h.sync.getDoc(docName.me(alice.memberId))
    await until(() => meReadsOf(server).get('c_aaaaaaaaaaaaaaaa') === 1234, 5000, 'read marker stored')
    meStarsOf(me.doc).set('c_aaaaaaaaaaaaaaaa', true)
    await until(() => meStarsOf(server).get('c_aaaaaaaaaaaaaaaa') === true, 5000, 'star stored')
    meUnreadOf(me.doc).set('c_aaaaaaaaaaaaaaaa', { count: 0, mentions: 0 })
    await until(() => relay.rejects.length === 1, 5000, 'rejection')
    expect(relay.rejects[0]!.reason).toBe('serverOnlyField')
  })

  it('OWN11: a member writes thread read markers keyed by root message id; followed threads are the server\'s', async () => {
    const alice = h.seedMember()
    const me = h.connect(docName.me(alice.memberId), alice.token)
    const relay = watchRelay(me)
    await synced(me)
    markThreadRead(me.doc, 'msg_aaaaaaaaaaaaaaaa', 1234)
    const server = await h.sync.getDoc(docName.me(alice.memberId))
    await until(() => meThreadReadsOf(server).get('msg_aaaaaaaaaaaaaaaa') === 1234, 5000, 'thread marker stored')
    meThreadReadsOf(me.doc).set('c_aaaaaaaaaaaaaaaa', 1234)
    await until(() => relay.rejects.length === 1, 5000, 'rejection of a conversation key')
    expect(relay.rejects[0]!.reason).toBe('invalidField')
    const again = h.connect(docName.me(alice.memberId), alice.token)
    const relay2 = watchRelay(again)
    await synced(again)
    meThreadsOf(again.doc).set('msg_aaaaaaaaaaaaaaaa', { conversationId: 'c_aaaaaaaaaaaaaaaa', lastReplyAt: 1, lastReplyBy: null })
    await until(() => relay2.rejects.length === 1, 5000, 'rejection of a server-only write')
    expect(relay2.rejects[0]!.reason).toBe('serverOnlyField')
    expect(meThreadsOf(server).size).toBe(0)
  })
})

describe('archived channels', () => {
  beforeEach(async () => { h = await startHarness() })

  it('ACC6: an archived channel stays readable but refuses writes, and takes them again once unarchived', async () => {
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    const seg = h.connect(docName.conv(conv, 0), alice.token)
    const relay = watchRelay(seg)
    await synced(seg)
    appendMessage(seg.doc, { author: alice.memberId, body: 'before' })
    const server = await h.sync.getDoc(docName.conv(conv, 0))
    await until(() => listMessages(server).length === 1, 5000, 'first message stored')
    const setArchived = (at: number | null) => h.db.$client.prepare('UPDATE conversations SET archived_at = ? WHERE id = ?').run(at, conv)
    setArchived(Date.now())
    appendMessage(seg.doc, { author: alice.memberId, body: 'while archived' })
    await until(() => relay.rejects.length === 1, 5000, 'rejection')
    expect(relay.rejects[0]).toMatchObject({ reason: 'readOnly', detail: expect.stringContaining('archived') })
    expect(listMessages(server).map((m) => m.body)).toEqual(['before'])
    setArchived(null)
    const again = h.connect(docName.conv(conv, 0), alice.token)
    await synced(again)
    appendMessage(again.doc, { author: alice.memberId, body: 'after' })
    await until(() => listMessages(server).some((m) => m.body === 'after'), 5000, 'posting works again')
  })
})

describe('segments', () => {
  beforeEach(async () => { h = await startHarness({ segmentSize: 5 }) })

  it('OWN9: a full live segment is sealed, the next opens, and old segments refuse new messages', async () => {
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    const liveSegment = () => h.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(conv) as number
    const seg0 = h.connect(docName.conv(conv, 0), alice.token)
    const relay0 = watchRelay(seg0)
    await synced(seg0)
    for (let i = 0; i < 5; i++) appendMessage(seg0.doc, { author: alice.memberId, body: `m${i}` })
    await until(() => liveSegment() === 1, 5000, 'seal')
    await until(() => readSegmentMeta(seg0.doc)?.sealed === true, 5000, 'sealed flag relayed')
    // A client that was offline across the seal may still land its message in the old segment.
    appendMessage(seg0.doc, { author: alice.memberId, body: 'late' })
    await until(() => relay0.acked === 6, 5000, 'late message accepted')

    const seg1 = h.connect(docName.conv(conv, 1), alice.token)
    await synced(seg1)
    expect(readSegmentMeta(seg1.doc)).toEqual({ conversationId: conv, segment: 1, sealed: false })
    for (let i = 0; i < 5; i++) appendMessage(seg1.doc, { author: alice.memberId, body: `n${i}` })
    await until(() => liveSegment() === 2, 5000, 'second seal')
    appendMessage(seg0.doc, { author: alice.memberId, body: 'too late' })
    await until(() => relay0.rejects.length === 1, 5000, 'rejection')
    expect(relay0.rejects[0]!.reason).toBe('sealed')
  })
})

describe('read-only docs', () => {
  beforeEach(async () => { h = await startHarness() })

  it('ACC1: a plain y-websocket client can hold the directory open without being refused', async () => {
    const alice = h.seedMember()
    const dir = h.connect(docName.dir(h.workspaceId), alice.token)
    const relay = watchRelay(dir)
    await synced(dir)
    await new Promise((r) => setTimeout(r, 200))
    expect(relay.rejects).toEqual([])
  })
})

describe('presence', () => {
  beforeEach(async () => { h = await startHarness() })

  it('a client speaks in awareness only as itself, and never as the server', async () => {
    const { alice, bob, a, b } = await pairInConversation(h)
    const seenByBob = () => [...b.awareness.getStates().entries()].filter(([id]) => id !== b.awareness.clientID).map(([, s]) => s)
    a.awareness.setLocalState({ memberId: bob.memberId, typing: true })
    a.awareness.setLocalState({ thinking: [alice.memberId] })
    await new Promise((r) => setTimeout(r, 300))
    expect(seenByBob()).toEqual([])
    a.awareness.setLocalState({ memberId: alice.memberId, typing: true })
    await until(() => seenByBob().some((s) => s.memberId === alice.memberId && s.typing === true), 5000, 'own presence relayed')
  })
})
