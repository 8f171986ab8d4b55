import { openDb } from '@circlechat/db'
import * as Y from 'yjs'
import { afterAll, describe, expect, it } from 'vitest'
import { DocFeed } from '../src/cluster/doc-feed.js'
import { Forwarder, NoReply } from '../src/cluster/forward.js'
import { StreamReader } from '../src/cluster/stream-reader.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import { startOwner } from './fixtures/doc-owner.js'
import { REDIS_URL, redisScratch, scratchDb } from './cluster-setup.js'

// A real Redis and one SQLite file shared by the processes (WAL).
const redis = redisScratch()
const { prefix } = redis
const TTL = 500

afterAll(() => redis.cleanup())

const items = (d: Y.Doc) => d.getArray<number>('log').toArray()

describe('owner failover', () => {
  it('kill -9 of the owner mid-write: every acknowledged update is in the database, the next owner takes the rest', async () => {
    const { file, remove } = scratchDb('failover')
    const doc = 'conv:c_failover:0'
    const db = openDb(file) // migrates before the child opens the file
    const conns = [redis.connect(), redis.connect(), redis.connect()] as const
    const reader = new StreamReader(conns[0], conns[1], { maxStreams: 10, blockMs: 10_000, readCount: 100 })
    const forwarder = new Forwarder(conns[0], conns[2], reader, { prefix, holder: 'edge', maxLen: 1000, maxPending: 64, replyTimeoutMs: 1000 })
    await forwarder.start()
    let successor: Awaited<ReturnType<typeof startOwner>> | null = null
    try {
      const { child, exited, lines, until } = redis.spawn('child-doc-owner.ts', [file, doc, REDIS_URL, prefix, String(TTL)])
      await until(() => lines.includes('ready'))

      // This process relays the owner's stream into its replica, from the tail it noted first.
      const feed = new DocFeed(conns[0], reader, { prefix, maxLen: 1000 })
      const replica = new Y.Doc()
      const store = new SqliteStore(db)
      const from = await feed.tail(doc)
      const reload = async () => { for (const u of await store.loadDoc(doc)) Y.applyUpdate(replica, u) }
      await reload()
      let gaps = 0
      feed.follow(doc, from, { onEntry: (e) => Y.applyUpdate(replica, e.update), onGap: () => { gaps++; void reload() } })

      // A client of this process pushes numbered items, 16 forwarded at a time; every ack recorded.
      const client = new Y.Doc()
      const acked: number[] = []
      const unanswered: number[] = []
      let next = 0
      let killed = false
      const inflight = new Set<Promise<void>>()
      // It keeps writing through the kill, as a client would, until an update goes unanswered.
      const send = (): void => {
        if (unanswered.length > 0) return
        const i = next++
        let update: Uint8Array | null = null
        const grab = (u: Uint8Array) => { update = u }
        client.once('update', grab)
        client.getArray<number>('log').push([i])
        const p: Promise<void> = forwarder.forward(doc, '{"memberId":"m_a"}', update!).then((reply) => {
          expect(reply).toEqual({ kind: 'ack' })
          acked.push(i)
          if (acked.length === 150 && !killed) {
            killed = true
            child.kill('SIGKILL')
          }
        }, (err: unknown) => {
          expect(err).toBeInstanceOf(NoReply)
          unanswered.push(i)
        }).finally(() => {
          inflight.delete(p)
          send()
        })
        inflight.add(p)
      }
      for (let k = 0; k < 16; k++) send()
      await exited
      while (inflight.size > 0) await Promise.race(inflight)

      // The database is the record: every acknowledged item is there, once.
      const stored = new Y.Doc()
      for (const u of await store.loadDoc(doc)) Y.applyUpdate(stored, u)
      const have = items(stored)
      expect(acked.filter((i) => !have.includes(i))).toEqual([])
      expect(new Set(have).size).toBe(have.length)
      expect(unanswered.length).toBeGreaterThan(0)

      // The lease lapses; this process becomes the owner, and the client re-syncs through it.
      successor = await startOwner({ file, doc, redisUrl: REDIS_URL, prefix, ttlMs: TTL, holder: 'successor' })
      expect(successor.fence).toBe(2)
      expect(await forwarder.forward(doc, '{"memberId":"m_a"}', Y.encodeStateAsUpdate(client))).toEqual({ kind: 'ack' })
      const all = [...Array(next).keys()]
      expect(items(successor.ydoc)).toEqual(all)
      while (items(replica).length < next) await new Promise((r) => setTimeout(r, 20))
      expect(items(replica)).toEqual(all)
      expect(gaps).toBe(1) // the new owner's first entry: the replica reloaded from the database
      feed.unfollow(doc)
    } finally {
      await successor?.close()
      await forwarder.close()
      await reader.close()
      db.$client.close()
      remove()
    }
  })
})
