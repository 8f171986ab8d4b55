import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as awarenessProtocol from 'y-protocols/awareness'
import {
  appendMessage, deleteMessage, docName, editMessage, findMessage, listMessages, messagesOf, REACTIONS
} from '@circlechat/model'
import { startHarness, until, synced, rawClient, type Harness, mirrorDoc, forgeUpdate, storedUpdates as storedUpdatesOf } from './harness.js'
import { decode, encode, withItem } from './forge.js'

/**
 * Regression tests for the forged updates an attacker got through (issue: trust boundary), over
 * real sockets against a real relay and SQLite file. Each is refused with nothing applied,
 * stored or relayed, and the relay keeps serving; the legitimate forms (chains of offline edits)
 * are accepted.
 */
let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

const storedUpdates = (name: string) => storedUpdatesOf(h, name)
const mirror = (name: string) => mirrorDoc(h, name)
const forge = (name: string, edit: (doc: Y.Doc) => void) => forgeUpdate(h, name, edit)

async function setup() {
  const alice = h.seedMember()
  const bob = h.seedMember()
  const admin = h.seedMember('admin')
  const conv = h.seedConversation([alice.memberId, bob.memberId, admin.memberId])
  const name = docName.conv(conv, 0)
  const a = h.connect(name, alice.token)
  await synced(a)
  const aliceMsg = appendMessage(a.doc, { author: alice.memberId, body: 'original' })
  await until(() => (h.db.$client.prepare('SELECT count(*) FROM messages WHERE id = ?').pluck().get(aliceMsg) as number) === 1)
  return { alice, bob, admin, conv, name, a, aliceMsg }
}


/** Sends `update` as `token` and expects a refusal with `reason`, nothing stored or changed. */
async function expectRefused(name: string, token: string, update: Uint8Array, reason: string) {
  const stored = storedUpdates(name)
  const snapshot = Y.encodeStateAsUpdate(await h.sync.getDoc(name))
  const sock = await rawClient(h.url, name, token)
  sock.sendUpdate(update)
  await until(() => sock.rejects.length > 0, 5000, 'rejection')
  expect(sock.rejects[0]!.reason).toBe(reason)
  expect(storedUpdates(name)).toBe(stored)
  expect(Y.encodeStateAsUpdate(await h.sync.getDoc(name))).toEqual(snapshot)
  sock.close()
}

/** Sends `update` as `token` on a provider-less socket and waits for the ack. */
async function expectAccepted(name: string, token: string, update: Uint8Array) {
  const sock = await rawClient(h.url, name, token)
  sock.sendUpdate(update)
  const server = await h.sync.getDoc(name)
  const sv = Y.encodeStateVector(server)
  await until(() => sock.rejects.length > 0 || !equal(sv, Y.encodeStateVector(server)), 5000, 'apply')
  expect(sock.rejects).toEqual([])
  sock.close()
}
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i])

/** The update with a second item for `key` in the new message map, the forged value first. */
function duplicateKey(update: Uint8Array, key: string, forgedValue: unknown) {
  const x = decode(update)
  const victim = x.structs.find((s): s is Y.Item => s instanceof Y.Item && s.parentSub === key)!
  const last = x.structs[x.structs.length - 1]!
  const end = x.structs.length
  x.structs[x.structs.indexOf(victim)] = withItem(victim, { content: new Y.ContentAny([forgedValue]) })
  x.structs.splice(end, 0, withItem(victim, { id: Y.createID(victim.id.client, last.id.clock + last.length) }))
  return encode(x)
}

describe('1. duplicate keys in one update', () => {
  it('refuses two items for one key (Yjs keeps the first, the check saw the last)', async () => {
    const { bob, admin, name, aliceMsg } = await setup()
    const post = await forge(name, (d) => appendMessage(d, { author: bob.memberId, body: 'hi', mentions: [admin.memberId] }))
    for (const [key, value] of [['author', admin.memberId], ['id', aliceMsg], ['createdAt', Date.now() + 10 * 365 * 86_400_000], ['createdAt', 'soon'], ['body', 'x'.repeat(60_000)], ['mentions', Array.from({ length: 500 }, () => 'm')]] as const) {
      await expectRefused(name, bob.token, duplicateKey(post, key, value), 'duplicateKey')
    }
    // The same forged values without the duplicate are refused on their own merits.
    await expectRefused(name, bob.token, await forge(name, (d) => appendMessage(d, { author: bob.memberId, body: 'hi', createdAt: 'soon' as never })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => appendMessage(d, { id: aliceMsg, author: bob.memberId, body: 'hi' })), 'immutableField')
    expect(listMessages(await h.sync.getDoc(name)).map((m) => m.body)).toEqual(['original'])
  })

  it('refuses a thread reply whose duplicate parentId names another root', async () => {
    const { alice, bob, aliceMsg, a } = await setup()
    const other = appendMessage(a.doc, { author: alice.memberId, body: 'another root' })
    await until(() => h.db.$client.prepare('SELECT 1 FROM messages WHERE id = ?').pluck().get(other) === 1)
    const thread = docName.thread(aliceMsg)
    const reply = await forge(thread, (d) => appendMessage(d, { author: bob.memberId, body: 'reply', parentId: aliceMsg }))
    await expectRefused(thread, bob.token, duplicateKey(reply, 'parentId', other), 'duplicateKey')
  })

  it('accepts a chain: a message posted, edited twice and deleted offline lands as one update', async () => {
    const { bob, name } = await setup()
    const update = await forge(name, (d) => {
      const id = appendMessage(d, { author: bob.memberId, body: 'frist' })
      editMessage(d, id, 'first', [])
      editMessage(d, id, 'first!', [])
      const gone = appendMessage(d, { author: bob.memberId, body: 'oops' })
      deleteMessage(d, gone)
      const r = findMessage(d, id)!.get(REACTIONS) as Y.Map<unknown>
      r.set(`${bob.memberId}|👍`, true)
      r.delete(`${bob.memberId}|👍`)
    })
    await expectAccepted(name, bob.token, update)
    const server = listMessages(await h.sync.getDoc(name))
    expect(server.slice(1).map((m) => [m.body, m.deleted, m.editedAt !== null])).toEqual([['first!', false, true], ['', true, false]])
    await until(() => (h.db.$client.prepare("SELECT count(*) FROM messages WHERE author = ?").pluck().get(bob.memberId) as number) === 2)
  })
})

describe('2. delete ranges beyond the server\'s state', () => {
  it('refuses them, so the next message of another member is never erased', async () => {
    const { alice, bob, name } = await setup()
    const server = await h.sync.getDoc(name)
    const aliceClient = [...server.store.clients.keys()].find((c) => c !== server.clientID)!
    const doc = await mirror(name)
    const sv = Y.encodeStateVector(doc)
    appendMessage(doc, { author: bob.memberId, body: 'cover' })
    const x = decode(Y.encodeStateAsUpdate(doc, sv))
    x.ds.set(aliceClient, [{ clock: Y.getState(server.store, aliceClient), len: 10_000 }])
    await expectRefused(name, bob.token, encode(x), 'unresolvable')
    // A delete-only update aimed at the future is refused too.
    await expectRefused(name, bob.token, encode({ structs: [], ds: new Map([[aliceClient, [{ clock: Y.getState(server.store, aliceClient), len: 50 }]]]) }), 'unresolvable')
    const a2 = h.connect(name, alice.token)
    await synced(a2)
    appendMessage(a2.doc, { author: alice.memberId, body: 'still here' })
    await until(() => listMessages(server).some((m) => m.body === 'still here'))
    expect(server.store.pendingDs).toBeNull()
    expect(listMessages(server).find((m) => m.body === 'still here')!.deleted).toBe(false)
  })

  it('refuses a range over future clocks in one\'s own me doc', async () => {
    const { alice } = await setup()
    const me = docName.me(alice.memberId)
    const server = await h.sync.getDoc(me)
    await expectRefused(me, alice.token, encode({ structs: [], ds: new Map([[server.clientID, [{ clock: Y.getState(server.store, server.clientID), len: 1000 }]]]) }), 'unresolvable')
  })
})

describe('3. structs behind a clock gap', () => {
  it('refuses Skip structs and gaps, so nothing is parked to land later unchecked', async () => {
    const { bob, name } = await setup()
    const doc = await mirror(name)
    const sv = Y.encodeStateVector(doc)
    appendMessage(doc, { author: bob.memberId, body: 'first half' })
    const sv2 = Y.encodeStateVector(doc)
    appendMessage(doc, { author: bob.memberId, body: 'parked' })
    const later = decode(Y.encodeStateAsUpdate(doc, sv2))
    // The second half alone: behind a gap.
    await expectRefused(name, bob.token, encode(later), 'unresolvable')
    // The same with a Skip filling the gap.
    const first = later.structs[0]!
    const gap = first.id.clock - Y.decodeStateVector(sv).get(doc.clientID)!
    if (gap > 0) {
      await expectRefused(name, bob.token, encode({ structs: [new Y.Skip(Y.createID(doc.clientID, first.id.clock - gap), gap), ...later.structs], ds: later.ds }), 'unresolvable')
    }
    const server = await h.sync.getDoc(name)
    expect(server.store.pendingStructs).toBeNull()
    expect(listMessages(server).map((m) => m.body)).toEqual(['original'])
  })
})

describe('bounded work', () => {
  it('refuses maps nested 15,000 deep without walking them', async () => {
    const { bob, name } = await setup()
    const update = await forge(name, (d) => d.transact(() => {
      const top = new Y.Map<unknown>()
      messagesOf(d).push([top])
      let m = top
      for (let i = 0; i < 15_000; i++) {
        const next = new Y.Map<unknown>()
        m.set('x', next)
        m = next
      }
    }))
    expect(update.byteLength).toBeLessThan(256 * 1024)
    await expectRefused(name, bob.token, update, 'invalidField')
    expect(listMessages(await h.sync.getDoc(name)).map((m) => m.body)).toEqual(['original'])
  })
})

describe('4. moderation', () => {
  it('an author cannot undo an admin\'s delete', async () => {
    const { alice, admin, name, aliceMsg } = await setup()
    const m = h.connect(name, admin.token)
    await synced(m)
    deleteMessage(m.doc, aliceMsg)
    const server = await h.sync.getDoc(name)
    await until(() => findMessage(server, aliceMsg)!.get('deleted') === true)
    await expectRefused(name, alice.token, await forge(name, (d) => d.transact(() => {
      findMessage(d, aliceMsg)!.delete('deleted')
      findMessage(d, aliceMsg)!.set('body', 'back from the dead')
    })), 'invalidField')
    await expectRefused(name, alice.token, await forge(name, (d) => findMessage(d, aliceMsg)!.delete('deleted')), 'invalidField')
    await expectRefused(name, alice.token, await forge(name, (d) => findMessage(d, aliceMsg)!.set('body', 'edited after delete')), 'invalidField')
    expect(listMessages(server)[0]).toMatchObject({ deleted: true, body: '' })
  })
})

describe('7. awareness', () => {
  const awarenessSocket = (name: string, token: string) => rawClient(h.url, name, token)

  it('caps ids per connection within one update, reserves the server\'s id and limits floods', async () => {
    const { bob, name } = await setup()
    await h.sync.setServerPresence(name, { thinking: ['a_agent'] })
    const server = await h.sync.getDoc(name)
    const sock = await awarenessSocket(name, bob.token)
    sock.sendAwareness([1, 2, 3, 4, 5].map((id) => [9000 + id, 1, { memberId: bob.memberId }]))
    // The server's own awareness client id is the doc's client id: writing it is refused.
    sock.sendAwareness([[server.clientID, 99, null]])
    const watcher = h.connect(name, bob.token)
    await synced(watcher)
    await new Promise((r) => setTimeout(r, 200))
    const states = watcher.awareness.getStates()
    for (const id of [9001, 9002, 9003, 9004, 9005]) expect(states.has(id)).toBe(false)
    expect(states.get(server.clientID)).toEqual({ thinking: ['a_agent'] })
    // A burst of large presence updates: most are refused as a flood, and oversize ones outright.
    for (let i = 0; i < 100; i++) sock.sendAwareness([[9100, i + 1, { memberId: bob.memberId, pad: 'x'.repeat(1000) }]])
    sock.sendAwareness([[9101, 1, { memberId: bob.memberId, pad: 'x'.repeat(8000) }]])
    await until(() => sock.rejects.some((r) => r.reason === 'rateLimited'), 5000, 'awareness rate limit')
    expect(sock.rejects.some((r) => r.reason === 'tooLarge')).toBe(true)
    awarenessProtocol.removeAwarenessStates(watcher.awareness, [watcher.awareness.clientID], 'test')
  })
})

describe('storage agrees with memory', () => {
  it('the message index refuses an id that lives in another doc', async () => {
    const { bob, name, aliceMsg } = await setup()
    const other = h.seedConversation([bob.memberId])
    // A server-authored write (which skips the guard) reusing the id fails its commit.
    await expect(h.sync.transact(docName.conv(other, 0), { source: 'server', reason: 'test' }, (d) => appendMessage(d, { id: aliceMsg, author: bob.memberId, body: 'collide' }))).rejects.toThrow(/another document/)
    expect(h.db.$client.prepare('SELECT doc, body FROM messages WHERE id = ?').get(aliceMsg)).toEqual({ doc: name, body: 'original' })
    // The failed doc was reloaded from storage: the colliding message is gone from memory too.
    expect(messagesOf(await h.sync.getDoc(docName.conv(other, 0))).length).toBe(0)
  })
})
