import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  appendMessage, docName, editMessage, deleteMessage, listMessages, messagesOf, reactionKey, REACTIONS,
  findMessage, dirMembersOf, newId
} from '@circlechat/model'
import { startHarness, until, synced, watchRelay, rawClient, pairInConversation, type Harness, mirrorDoc, forgeUpdate, storedUpdates as storedUpdatesOf } from './harness.js'

let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

const storedUpdates = (name: string) => storedUpdatesOf(h, name)
const mirror = (name: string) => mirrorDoc(h, name)
const forge = (name: string, edit: (doc: Y.Doc) => void) => forgeUpdate(h, name, edit)



describe('relay', () => {
  it('two clients see each other\'s messages (OWN1)', async () => {
    const { alice, bob, conv, a, b, relayA } = await pairInConversation(h)
    appendMessage(a.doc, { author: alice.memberId, body: 'hello bob' })
    await until(() => listMessages(b.doc).some((m) => m.body === 'hello bob'), 5000, 'bob sees it')
    appendMessage(b.doc, { author: bob.memberId, body: 'hi alice' })
    await until(() => listMessages(a.doc).some((m) => m.body === 'hi alice'), 5000, 'alice sees it')
    await until(() => relayA.acked >= 1, 5000, 'ack')
    expect(relayA.rejects).toEqual([])
    const rows = h.db.$client.prepare('SELECT body, author FROM messages WHERE conversation_id = ? ORDER BY created_at').all(conv)
    expect(rows).toEqual([{ body: 'hello bob', author: alice.memberId }, { body: 'hi alice', author: bob.memberId }])
  })

  it('a non-member cannot open the document at all (ACC2)', async () => {
    const alice = h.seedMember()
    const eve = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    await expect(rawClient(h.url, docName.conv(conv, 0), eve.token)).rejects.toThrow('HTTP 403')
    await expect(rawClient(h.url, docName.me(alice.memberId), eve.token)).rejects.toThrow('HTTP 403')
    await expect(rawClient(h.url, docName.conv(conv, 0), 'nobody')).rejects.toThrow('HTTP 401')
    await expect(rawClient(h.url, 'conv:../../etc', alice.token)).rejects.toThrow('HTTP 400')
  })

  it('edits and deletes by the author and admin moderation are accepted (OWN3, OWN5)', async () => {
    const alice = h.seedMember()
    const admin = h.seedMember('admin')
    const conv = h.seedConversation([alice.memberId, admin.memberId])
    const name = docName.conv(conv, 0)
    const a = h.connect(name, alice.token)
    const m = h.connect(name, admin.token)
    await Promise.all([synced(a), synced(m)])
    const first = appendMessage(a.doc, { author: alice.memberId, body: 'frist' })
    const second = appendMessage(a.doc, { author: alice.memberId, body: 'spam' })
    await until(() => listMessages(m.doc).length === 2)
    editMessage(a.doc, first, 'first', [])
    deleteMessage(m.doc, second)
    await until(() => {
      const rows = listMessages(a.doc)
      return rows[0]!.body === 'first' && rows[1]!.deleted
    }, 5000, 'edit and moderation')
    await until(() => (h.db.$client.prepare('SELECT deleted FROM messages WHERE id = ?').pluck().get(second) as number) === 1)
  })
})

describe('guard rejects forged updates, stores nothing and keeps serving', () => {
  let alice: ReturnType<Harness['seedMember']>
  let bob: ReturnType<Harness['seedMember']>
  let name: string
  let conv: string
  let aliceMsg: string

  beforeEach(async () => {
    alice = h.seedMember()
    bob = h.seedMember()
    conv = h.seedConversation([alice.memberId, bob.memberId])
    name = docName.conv(conv, 0)
    const a = h.connect(name, alice.token)
    await synced(a)
    aliceMsg = appendMessage(a.doc, { author: alice.memberId, body: 'original' })
    await until(() => (h.db.$client.prepare('SELECT count(*) FROM messages').pluck().get() as number) === 1)
  })

  async function expectRejected(update: Uint8Array, reason: string, target = name) {
    const before = storedUpdates(target)
    const snapshot = Y.encodeStateAsUpdate(await h.sync.getDoc(target))
    const bobSocket = await rawClient(h.url, target, bob.token)
    bobSocket.sendUpdate(update)
    await until(() => bobSocket.rejects.length > 0, 5000, 'rejection')
    expect(bobSocket.rejects[0]!.reason).toBe(reason)
    expect(storedUpdates(target)).toBe(before)
    expect(Y.encodeStateAsUpdate(await h.sync.getDoc(target))).toEqual(snapshot)
    bobSocket.close()
    await stillServing()
  }

  async function stillServing() {
    const b = h.connect(name, bob.token)
    await synced(b)
    appendMessage(b.doc, { author: bob.memberId, body: 'still here' })
    const server = await h.sync.getDoc(name)
    await until(() => listMessages(server).some((m) => m.body === 'still here'), 5000, 'server keeps serving')
    b.destroy()
  }

  it('OWN1: a message authored as someone else', async () => {
    await expectRejected(await forge(name, (d) => appendMessage(d, { author: alice.memberId, body: 'I am alice' })), 'notAuthor')
  })

  it('OWN3: editing someone else\'s message', async () => {
    await expectRejected(await forge(name, (d) => findMessage(d, aliceMsg)!.set('body', 'pwned')), 'notAuthor')
  })

  it('OWN5: deleting someone else\'s message, softly or by removal', async () => {
    await expectRejected(await forge(name, (d) => findMessage(d, aliceMsg)!.set('deleted', true)), 'notAuthor')
    await expectRejected(await forge(name, (d) => messagesOf(d).delete(0, 1)), 'notAuthor')
  })

  it('OWN2: rewriting an id or timestamp', async () => {
    await expectRejected(await forge(name, (d) => findMessage(d, aliceMsg)!.set('createdAt', 1)), 'immutableField')
    await expectRejected(await forge(name, (d) => findMessage(d, aliceMsg)!.set('id', newId('message'))), 'immutableField')
  })

  it('OWN1: a reused message id and a future timestamp', async () => {
    await expectRejected(await forge(name, (d) => appendMessage(d, { id: aliceMsg, author: bob.memberId, body: 'dup' })), 'immutableField')
    await expectRejected(await forge(name, (d) => appendMessage(d, { author: bob.memberId, body: 'later', createdAt: Date.now() + 86_400_000 })), 'invalidField')
  })

  it('OWN4: reacting as someone else', async () => {
    await expectRejected(await forge(name, (d) => (findMessage(d, aliceMsg)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(alice.memberId, '👍'), true)), 'notAuthor')
  })

  it('OWN6: server-only fields', async () => {
    await expectRejected(await forge(name, (d) => findMessage(d, aliceMsg)!.set('threadCount', 99)), 'serverOnlyField')
    await expectRejected(await forge(name, (d) => d.getMap('meta').set('sealed', true)), 'serverOnlyField')
  })

  it('ACC1: writing the workspace directory', async () => {
    const dir = docName.dir(h.workspaceId)
    await expectRejected(await forge(dir, (d) => dirMembersOf(d).set(bob.memberId, { id: bob.memberId, kind: 'user', name: 'Bob', handle: 'bob', role: 'admin', avatar: null, title: null, reportsTo: null })), 'readOnly', dir)
  })

  it('OWN8: writing under another member\'s client id', async () => {
    const doc = await mirror(name)
    const server = await h.sync.getDoc(name)
    const aliceClient = [...server.store.clients.keys()].find((c) => c !== server.clientID)!
    const forgedDoc = new Y.Doc()
    Y.applyUpdate(forgedDoc, Y.encodeStateAsUpdate(doc))
    // Set after loading: Yjs itself moves off a client id it sees in use.
    forgedDoc.clientID = aliceClient
    const sv = Y.encodeStateVector(forgedDoc)
    appendMessage(forgedDoc, { author: bob.memberId, body: 'under alice\'s client' })
    await expectRejected(Y.encodeStateAsUpdate(forgedDoc, sv), 'foreignClient')
  })

  it('an oversized update and random bytes', async () => {
    const big = await forge(name, (d) => appendMessage(d, { author: bob.memberId, body: 'x'.repeat(300_000) }))
    await expectRejected(big, 'tooLarge')
    const random = new Uint8Array(512)
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 255
    await expectRejected(random, 'malformed')
  })

  it('a 10 MB frame is refused at the socket and stores nothing', async () => {
    const before = storedUpdates(name)
    const sock = await rawClient(h.url, name, bob.token)
    sock.sendBytes(new Uint8Array(10 * 1024 * 1024))
    await until(() => sock.closed !== null, 5000, 'close')
    expect(sock.closed).toBe(1009)
    expect(storedUpdates(name)).toBe(before)
    await stillServing()
  })

  it('floods are refused per connection', async () => {
    const sock = await rawClient(h.url, name, bob.token)
    const doc = await mirror(name)
    // Past the catch-up pool (600 new messages for a connection's first minute) and the burst.
    for (let i = 0; i < 700; i++) {
      const sv = Y.encodeStateVector(doc)
      appendMessage(doc, { author: bob.memberId, body: `flood ${i}` })
      sock.sendUpdate(Y.encodeStateAsUpdate(doc, sv))
    }
    await until(() => sock.rejects.some((r) => r.reason === 'rateLimited'), 5000, 'rate limit')
    sock.close()
  })
})
