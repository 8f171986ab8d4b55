import { openDb } from '@circlechat/db'
import { Redis } from 'ioredis'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as Y from 'yjs'
import { afterAll, describe, expect, it } from 'vitest'
import { DocFeed } from '../src/cluster/doc-feed.js'
import { Forwarder, NoReply } from '../src/cluster/forward.js'
import { StreamReader } from '../src/cluster/stream-reader.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import { startOwner } from './fixtures/doc-owner.js'

// A real Redis on 127.0.0.1:6379 and one SQLite file shared by the processes (WAL).
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `cc-test:${randomUUID()}:`
const TTL = 500
let child: ChildProcess | null = null

afterAll(async () => {
  child?.kill('SIGKILL')
  const admin = new Redis(REDIS_URL)
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  admin.disconnect()
})

const items = (d: Y.Doc) => d.getArray<number>('log').toArray()

describe('owner failover', () => {
  it('kill -9 of the owner mid-write: every acknowledged update is in the database, the next owner takes the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-failover-'))
    const file = join(dir, 'shared.db')
    const doc = 'conv:c_failover:0'
    const db = openDb(file) // migrates before the child opens the file
    const conns = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)] as const
    const reader = new StreamReader(conns[0], conns[1], { maxStreams: 10, blockMs: 10_000, readCount: 100 })
    const forwarder = new Forwarder(conns[0], conns[2], reader, { prefix, holder: 'edge', maxLen: 1000, maxPending: 64, replyTimeoutMs: 1000 })
    await forwarder.start()
    let successor: Awaited<ReturnType<typeof startOwner>> | null = null
    try {
      child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/child-doc-owner.ts'), file, doc, REDIS_URL, prefix, String(TTL)], { stdio: ['ignore', 'pipe', 'inherit'] })
      const exited = new Promise((r) => child!.once('exit', r))
      await new Promise<void>((resolve) => createInterface({ input: child!.stdout! }).on('line', (l) => l === 'ready' && resolve()))

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
            child!.kill('SIGKILL')
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
      conns.forEach((c) => c.disconnect())
      db.$client.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
