import { type ChildProcess } from 'node:child_process'
import * as Y from 'yjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import { appendMessage, docName, editMessage, findMessage, listMessages, reactionKey, REACTIONS } from '@circlechat/model'
import { closeCode } from '@circlechat/protocol'
import { Forwarder } from '../src/cluster/forward.js'
import { StreamReader } from '../src/cluster/stream-reader.js'
import { connectProvider, forgeUpdate, mirrorDoc, rawClient, synced, until } from './harness.js'
import { REDIS_URL, redisScratch } from './cluster-setup.js'
import { eventually, type ClusterBackend, type ClusterDb } from './cluster-backends.js'

/**
 * Relays in three processes (this one and two children) on one database and one real Redis: the
 * first to open a doc owns it, the others forward their clients' updates and relay the feed. The
 * same cases run on SQLite (cluster-relay.test.ts) and PostgreSQL (cluster-relay-postgres.test.ts).
 */
export function clusterRelaySuite(backend: ClusterBackend) {
  // Short enough that a dead owner is replaced within seconds, long enough that a loaded machine's
  // slow commit is not taken for a dead owner (an answer waits 1.5 leases).
  const TTL = 2000
  const redis = redisScratch()
  let here: ClusterDb
  type Child = { url: string; child: ChildProcess; exited: Promise<unknown> }
  let there: Child
  let yonder: Child
  const cluster = (holder: string) => ({ redisUrl: REDIS_URL, prefix: redis.prefix, holder, leaseTtlMs: TTL, replyTimeoutMs: TTL * 1.5 })
  /** A child relay on the same database, once it listens. */
  async function spawnRelay(holder: string, ttl = TTL, config?: object): Promise<Child> {
    const { child, lines, exited, until: ready } = redis.spawn('child-cluster-relay.ts', [here.where, REDIS_URL, redis.prefix, holder, String(ttl), ...(config ? [JSON.stringify(config)] : [])])
    await ready(() => lines.length > 0)
    return { url: (JSON.parse(lines[0]!) as { url: string }).url, child, exited }
  }

  beforeAll(async () => {
    here = await backend(cluster('here'))
    ;[there, yonder] = await Promise.all([spawnRelay('there'), spawnRelay('yonder')])
  })
  afterAll(async () => {
    redis.disconnect() // the children first: they hold connections to the database
    await here?.close()
    await redis.cleanup()
  })

  const owner = (name: string) => redis.connect().get(`${redis.prefix}owner:${name}`)

  /** Alice, Bob and Carol in a new conversation; the child `there` opens its doc first and owns it. */
  async function conversationOwnedThere() {
    const alice = await here.seedMember()
    const bob = await here.seedMember()
    const carol = await here.seedMember()
    const conv = await here.seedConversation([alice.memberId, bob.memberId, carol.memberId])
    const name = docName.conv(conv, 0)
    const a = connectProvider(there.url, name, alice.memberId)
    await synced(a)
    expect(await owner(name)).toBe('there')
    const b = connectProvider(here.url, name, bob.memberId)
    await synced(b)
    return { alice, bob, carol, conv, name, a, b }
  }

  const bodies = (doc: Y.Doc) => listMessages(doc).map((m) => m.body)

  describe('relays in three processes', () => {
    it('clients on different processes converge on messages, edits and reactions', async () => {
      const { alice, bob, carol, name, a, b } = await conversationOwnedThere()
      const c = connectProvider(yonder.url, name, carol.memberId)
      await synced(c)
      const first = appendMessage(a.doc, { author: alice.memberId, body: 'from the owner\'s process' })
      await until(() => bodies(b.doc).includes('from the owner\'s process') && bodies(c.doc).includes('from the owner\'s process'), 5000, 'message on both followers')
      const reply = appendMessage(b.doc, { author: bob.memberId, body: 'from the follower\'s process' })
      await until(() => bodies(a.doc).includes('from the follower\'s process'), 5000, 'message on the owner')
      editMessage(b.doc, reply, 'edited on the follower', [])
      ;(findMessage(b.doc, first)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(bob.memberId, '👍'), true)
      await until(() => bodies(a.doc).includes('edited on the follower'), 5000, 'edit on the owner')
      await until(() => (findMessage(a.doc, first)!.get(REACTIONS) as Y.Map<unknown>).has(reactionKey(bob.memberId, '👍')), 5000, 'reaction on the owner')
      appendMessage(c.doc, { author: carol.memberId, body: 'from the second follower' })
      const all = ['from the owner\'s process', 'edited on the follower', 'from the second follower']
      await until(() => [a, b, c].every((p) => bodies(p.doc).join() === all.join()), 5000, 'every client has every message')
      // The follower's own copy, and the database (written by the owner alone), agree.
      // The edit and the reaction are two updates: wait for the last to reach the follower's copy.
      const follower = await here.sync.getDoc(name)
      const same = () => Buffer.from(Y.encodeStateVector(follower)).equals(Buffer.from(Y.encodeStateVector(a.doc)))
      await until(same, 5000, "the follower's copy at the owner's state")
      const stored = new Y.Doc()
      for (const u of await here.loadDoc(name)) Y.applyUpdate(stored, u)
      expect(bodies(stored)).toEqual(all)
      await eventually(async () => (await here.messageBodies(name)).join() === all.join(), 5000, 'the index')
      a.destroy()
      b.destroy()
      c.destroy()
    })

    it('a server-authored edit on the follower is committed by the owner and reaches both', async () => {
      const { bob, name, a, b } = await conversationOwnedThere()
      const follower = await here.sync.getDoc(name)
      const clients = follower.store.clients.size
      await here.sync.transact(name, { source: 'rest', memberId: bob.memberId }, (d) => appendMessage(d, { author: bob.memberId, body: 'posted over REST here' }))
      expect(bodies(follower)).toContain('posted over REST here') // resolved once it is held here too
      await until(() => bodies(a.doc).includes('posted over REST here') && bodies(b.doc).includes('posted over REST here'), 5000, 'the REST post everywhere')
      // Several at once: each is forwarded after the one before is held here, under one client id.
      const posts = ['one', 'two', 'three', 'four'].map((body) => here.sync.transact(name, { source: 'rest', memberId: bob.memberId }, (d) => appendMessage(d, { author: bob.memberId, body })))
      await Promise.all(posts)
      expect(bodies(follower)).toEqual(['posted over REST here', 'one', 'two', 'three', 'four'])
      expect(follower.store.clients.size).toBe(clients + 1)
      expect(await here.messageBodies(name)).toHaveLength(5)
      a.destroy()
      b.destroy()
    })

    it('presence crosses processes', async () => {
      const { alice, bob, a, b } = await conversationOwnedThere()
      ;(a.awareness as Awareness).setLocalStateField('memberId', alice.memberId)
      ;(b.awareness as Awareness).setLocalStateField('memberId', bob.memberId)
      const seen = (p: typeof a, memberId: string) => [...(p.awareness as Awareness).getStates().values()].some((s) => s.memberId === memberId)
      await until(() => seen(b, alice.memberId) && seen(a, bob.memberId), 5000, 'presence both ways')
      a.destroy()
      b.destroy()
    })

    it('a member removed meanwhile is refused on their next write through the follower', async () => {
      const { bob, conv, name, a, b } = await conversationOwnedThere()
      await here.removeMember(conv, bob.memberId)
      const bobSocket = await rawClient(here.url, name, bob.memberId).catch(() => null)
      // The upgrade itself is refused now; the open socket is refused by the owner on its next write.
      expect(bobSocket).toBeNull()
      const before = await here.storedUpdates(name)
      appendMessage(b.doc, { author: bob.memberId, body: 'after removal' })
      await until(() => b.wsconnected === false || (b.ws?.readyState ?? 3) > 1, 5000, 'the socket closed')
      expect(await here.storedUpdates(name)).toBe(before)
      expect(bodies(a.doc)).not.toContain('after removal')
      a.destroy()
      b.destroy()
    })

    it('the owner re-checks membership at the moment of use, and refuses an unreadable forwarded update', async () => {
      const { bob, conv, name, a, b } = await conversationOwnedThere()
      const update = await forgeUpdate(here, name, (d) => appendMessage(d, { author: bob.memberId, body: 'forwarded after removal' }))
      await here.removeMember(conv, bob.memberId)
      // As a follower would forward it had its own check passed a moment before the removal.
      const reader = new StreamReader(redis.connect(), redis.connect(), { maxStreams: 1, blockMs: 10_000, readCount: 10 })
      const forwarder = new Forwarder(redis.connect(), redis.connect(), reader, { prefix: redis.prefix, holder: 'probe', maxLen: 100, maxPending: 4, replyTimeoutMs: 5000 })
      await forwarder.start()
      const member = { memberId: bob.memberId, workspaceId: bob.workspaceId, role: bob.role, kind: bob.kind }
      expect(await forwarder.forward(name, JSON.stringify({ member, messages: 5 }), update)).toMatchObject({ kind: 'reject', reason: 'notMember' })
      expect(await forwarder.forward(name, JSON.stringify({ member: { memberId: 42 } }), update)).toMatchObject({ kind: 'reject', reason: 'malformed' })
      expect(bodies(a.doc)).not.toContain('forwarded after removal')
      await forwarder.close()
      await reader.close()
      a.destroy()
      b.destroy()
    })
  })

  describe('presence ids across processes', () => {
    it('a client may not speak for an awareness id of a connection on another process, whichever process it writes to', async () => {
      const { alice, bob, carol, name, a, b } = await conversationOwnedThere()
      const c = connectProvider(yonder.url, name, carol.memberId)
      await synced(c)
      const clients = [a, b, c]
      const stateOf = (p: typeof a, id: number) => (p.awareness as Awareness).getStates().get(id) as { memberId?: string; marker?: string } | undefined
      ;(a.awareness as Awareness).setLocalStateField('memberId', alice.memberId)
      const aliceId = a.awareness.clientID
      await until(() => clients.every((p) => stateOf(p, aliceId)?.memberId === alice.memberId), 10_000, "alice's presence on every process")
      // Bob, as himself (the member check passes), claims alice's awareness id through the
      // follower and the second follower, then writes his own id: a marker sent after the claim
      // on the same socket, so once it is everywhere the claim would have been too.
      for (const [i, url] of [here.url, yonder.url].entries()) {
        const socket = await rawClient(url, name, bob.memberId)
        await until(() => socket.frames > 0, 10_000, 'the socket admitted')
        const own = 900_000 + i
        socket.sendAwareness([[aliceId, 1_000, { memberId: bob.memberId, marker: 'forged' }]])
        socket.sendAwareness([[own, 1, { memberId: bob.memberId, marker: url }]])
        await until(() => clients.every((p) => stateOf(p, own)?.marker === url), 10_000, 'the marker on every process')
        expect(clients.map((p) => stateOf(p, aliceId))).toEqual(clients.map(() => ({ memberId: alice.memberId })))
        expect(socket.rejects).toEqual([])
        socket.close()
      }
      // Alice leaves: her id is free again everywhere, for whoever speaks for it next.
      a.destroy()
      await until(() => [b, c].every((p) => stateOf(p, aliceId) === undefined), 10_000, "alice's presence gone")
      b.destroy()
      c.destroy()
    })
  })

  describe('revocation', () => {
    it('closes the member\'s sockets on every process, not only on the one it was made on', async () => {
      const { bob, conv, name, a, b } = await conversationOwnedThere()
      const there1 = await rawClient(there.url, name, bob.memberId)
      const there2 = await rawClient(there.url, docName.me(bob.memberId), bob.memberId)
      // Admitted (greeted) first: a revocation only closes sockets the relay has let in.
      await until(() => there1.frames > 0 && there2.frames > 0, 10_000, 'both sockets admitted')
      await here.removeMember(conv, bob.memberId)
      here.sync.revokeConversation(bob.memberId, conv)
      await until(() => there1.closed !== null, 10_000, 'the conversation socket on the other process closed')
      expect(there1.closed).toBe(closeCode.revoked)
      expect(there2.closed).toBeNull() // his own doc stays open
      here.sync.revokeMember(bob.memberId)
      await until(() => there2.closed !== null, 10_000, 'every socket of the member closed')
      expect(there2.closed).toBe(closeCode.unauthorized)
      a.destroy()
      b.destroy()
    })
  })

  describe('the guard decides on the owner, whichever process the forged update comes in by', () => {
    for (const via of ['owner', 'follower', 'second follower'] as const) {
      it(`forged updates sent to the ${via}'s process are refused, nothing is stored, and all keep serving`, async () => {
        const { alice, bob, name, a, b } = await conversationOwnedThere()
        const aliceMsg = appendMessage(a.doc, { author: alice.memberId, body: 'original' })
        const follower = await here.sync.getDoc(name)
        await until(() => bodies(follower).includes('original'))
        const url = { owner: there.url, follower: here.url, 'second follower': yonder.url }[via]
        const forge = (edit: (d: Y.Doc) => void) => forgeUpdate(here, name, edit)
        const aliceClient = (findMessage(follower, aliceMsg) as unknown as { _item: Y.Item })._item.id.client
        const underAlice = async () => {
          const d = await mirrorDoc(here, name)
          d.clientID = aliceClient
          const sv = Y.encodeStateVector(d)
          appendMessage(d, { author: bob.memberId, body: 'under alice\'s client' })
          return Y.encodeStateAsUpdate(d, sv)
        }
        const cases: Array<[Uint8Array, string]> = [
          [await forge((d) => appendMessage(d, { author: alice.memberId, body: 'I am alice' })), 'notAuthor'],
          [await forge((d) => findMessage(d, aliceMsg)!.set('body', 'pwned')), 'notAuthor'],
          [await forge((d) => (findMessage(d, aliceMsg)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(alice.memberId, '👍'), true)), 'notAuthor'],
          [await forge((d) => appendMessage(d, { id: aliceMsg, author: bob.memberId, body: 'dup' })), 'immutableField'],
          [await forge((d) => findMessage(d, aliceMsg)!.set('threadCount', 99)), 'serverOnlyField'],
          [await underAlice(), 'foreignClient']
        ]
        for (const [update, reason] of cases) {
          const before = await here.storedUpdates(name)
          const socket = await rawClient(url, name, bob.memberId)
          socket.sendUpdate(update)
          await until(() => socket.rejects.length > 0, 5000, `refusal (${reason})`)
          expect(socket.rejects[0]!.reason).toBe(reason)
          expect(await here.storedUpdates(name)).toBe(before)
          socket.close()
        }
        expect(bodies(follower)).toEqual(['original'])
        appendMessage(b.doc, { author: bob.memberId, body: 'still here' })
        await until(() => bodies(a.doc).includes('still here'), 5000, 'still serving')
        a.destroy()
        b.destroy()
      })
    }
  })

  describe('an owner unloading a doc', () => {
    it('releases its lease at once: the follower takes the doc without waiting out the lease', async () => {
      const alice = await here.seedMember()
      const bob = await here.seedMember()
      const name = docName.conv(await here.seedConversation([alice.memberId, bob.memberId]), 0)
      // A third process whose lease would last 30 s, and which keeps no doc nobody is connected to
      // (unloaded at the disconnect, or by its sweep if a commit was still in flight then).
      const lender = await spawnRelay('lender', 30_000, { docBudgetBytes: 0, docGraceMs: 0, sealedIdleMs: 200 })
      const a = connectProvider(lender.url, name, alice.memberId)
      await synced(a)
      expect(await owner(name)).toBe('lender')
      const b = connectProvider(here.url, name, bob.memberId)
      await synced(b)
      const left = Date.now()
      a.destroy() // the lender's last client: it unloads the doc
      while ((await owner(name)) !== 'here') {
        expect(Date.now() - left).toBeLessThan(10_000)
        await new Promise((r) => setTimeout(r, 50))
      }
      await synced(b)
      appendMessage(b.doc, { author: bob.memberId, body: 'after the hand-over' })
      await eventually(async () => (await here.messageBodies(name)).length === 1, 5000, 'stored by the new owner')
      b.destroy()
      lender.child.kill('SIGKILL')
    })

    it('a graceful shutdown lets every doc go: its clients reconnect elsewhere and find it free', async () => {
      const alice = await here.seedMember()
      const bob = await here.seedMember()
      const name = docName.conv(await here.seedConversation([alice.memberId, bob.memberId]), 0)
      const leaving = await spawnRelay('leaving', 30_000)
      const a = connectProvider(leaving.url, name, alice.memberId)
      await synced(a)
      const b = connectProvider(here.url, name, bob.memberId)
      await synced(b)
      expect(await owner(name)).toBe('leaving')
      const stopped = Date.now()
      leaving.child.kill('SIGTERM')
      await leaving.exited
      while ((await owner(name)) !== 'here') {
        expect(Date.now() - stopped).toBeLessThan(5000) // its lease would have stood 30 s
        await new Promise((r) => setTimeout(r, 50))
      }
      a.destroy()
      b.destroy()
    })
  })

  describe('failover', () => {
    it('kill -9 of the owner mid-write: every acknowledged update is stored once, another process takes over and the rest lands', async () => {
      const { bob, carol, name, a, b } = await conversationOwnedThere()
      a.destroy()
      // Carol follows on the third process throughout, over y-websocket (it reconnects by itself).
      const c = connectProvider(yonder.url, name, carol.memberId)
      await synced(c)
      // Bob writes through the follower (this process), numbered messages, each ack counted in order.
      const client = await mirrorDoc(here, name)
      const sent: string[] = []
      const updates: Uint8Array[] = []
      client.on('update', (u: Uint8Array) => updates.push(u))
      const socket = await rawClient(here.url, name, bob.memberId)
      // It keeps writing through the kill, as a client would, until it is sent to re-sync.
      let afterKill = 0
      for (let i = 0; afterKill < 30 && socket.closed === null; i++) {
        // At most 50 in flight: on a loaded machine the acks set the pace, not a fixed count.
        await until(() => i - socket.acked < 50 || socket.closed !== null, 20_000, 'acks to keep up')
        appendMessage(client, { author: bob.memberId, body: `n${i}` })
        sent.push(`n${i}`)
        socket.sendUpdate(updates[i]!)
        await new Promise((r) => setTimeout(r, 3))
        if (afterKill > 0 || socket.acked >= 40) {
          if (afterKill++ === 0) there.child.kill('SIGKILL')
        }
      }
      expect(afterKill).toBeGreaterThan(0) // sent to re-sync before the kill: nothing was tested
      await there.exited
      await until(() => socket.closed !== null, 20_000, 'the follower sends its client to re-sync')
      expect(socket.closed).toBe(closeCode.resync)
      // Acks are numbered per connection and sent in order: the first `acked` updates were acknowledged.
      const acked = socket.acked
      expect(acked).toBeGreaterThanOrEqual(40)
      expect(socket.rejects).toEqual([])
      // The database is the record: every acknowledged message is there, once.
      const have = await here.messageBodies(name)
      expect(sent.slice(0, acked).filter((body) => !have.includes(body))).toEqual([])
      expect(new Set(have).size).toBe(have.length)
      expect(have.length).toBeLessThan(sent.length) // some were unanswered: the test killed mid-write
      // The dead owner's lease lapses; a live process takes the doc (whichever of the two reopens
      // it first), and the client resends through this one what was never acknowledged.
      const lapsed = Date.now()
      while (!['here', 'yonder'].includes((await owner(name)) ?? '')) {
        expect(Date.now() - lapsed).toBeLessThan(20_000)
        await new Promise((r) => setTimeout(r, 50))
      }
      const again = await rawClient(here.url, name, bob.memberId)
      for (const u of updates.slice(acked)) again.sendUpdate(u)
      await until(() => again.acked === updates.length - acked, 20_000, 'the resent updates acknowledged')
      expect(again.rejects).toEqual([])
      const all = await here.messageBodies(name)
      expect(new Set(all).size).toBe(all.length)
      expect(new Set(all)).toEqual(new Set(sent))
      // The third process's client converges on the same messages, whoever owns the doc now.
      await until(() => new Set(bodies(c.doc)).size === sent.length && bodies(c.doc).length === sent.length, 20_000, 'the third process converged')
      again.close()
      socket.close()
      b.destroy()
      c.destroy()
    }, 90_000)
  })
}
