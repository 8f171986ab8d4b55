import { openDb } from '@circlechat/db'
import { createScratchDatabase, openPgDb } from '@circlechat/db/pg'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { checkFenceSqlite, FencedOut } from '../src/cluster/fence.js'
import { checkFencePg } from '../src/cluster/fence-pg.js'
import { OwnerLeases, type Lease, type LeaseOptions } from '../src/cluster/lease.js'
import { PgDocStore } from '../src/persistence/postgres.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import { REDIS_URL, redisScratch, scratchDb } from './cluster-setup.js'

const redis = redisScratch()
const { prefix } = redis
const leaseSets: OwnerLeases[] = []

function leases(holder: string, opts: Partial<LeaseOptions> = {}) {
  const conn = redis.connect()
  const set = new OwnerLeases(conn, { prefix, holder, ttlMs: 300, maxLeases: 100, onLost: () => {}, ...opts })
  leaseSets.push(set)
  return { set, redis: conn }
}

afterEach(async () => {
  await Promise.all(leaseSets.splice(0).map((s) => s.close().catch(() => {})))
  redis.disconnect()
})
afterAll(() => redis.cleanup())

describe('owner leases', () => {
  it('one holder at a time, and each acquisition raises the fence', async () => {
    const a = leases('a').set
    const b = leases('b').set
    expect(await a.acquire('conv:c_one:0')).toEqual({ doc: 'conv:c_one:0', fence: 1 })
    expect(await b.acquire('conv:c_one:0')).toBeNull()
    expect(await b.owner('conv:c_one:0')).toBe('a')
    await a.release('conv:c_one:0')
    expect(await b.acquire('conv:c_one:0')).toEqual({ doc: 'conv:c_one:0', fence: 2 })
    expect(await a.owner('conv:c_one:0')).toBe('b')
  })

  it('the holder keeps its lease by renewing it past its lifetime', async () => {
    const a = leases('a').set
    await a.acquire('conv:c_renew:0')
    await sleep(1000)
    expect(await leases('b').set.acquire('conv:c_renew:0')).toBeNull()
    expect(a.held('conv:c_renew:0')?.fence).toBe(1)
  })

  it('a lapsed lease is taken over with a higher fence, its old holder told, and it cannot release the new one', async () => {
    const lost: Lease[] = []
    const a = leases('a', { onLost: (l) => lost.push(l) }).set
    await a.acquire('conv:c_lapse:0')
    await redis.connect().del(`${prefix}owner:conv:c_lapse:0`) // lapsed while its holder was paused
    const b = leases('b').set
    expect((await b.acquire('conv:c_lapse:0'))?.fence).toBe(2)
    await sleep(250)
    expect(lost).toEqual([{ doc: 'conv:c_lapse:0', fence: 1 }])
    expect(a.held('conv:c_lapse:0')).toBeNull()
    await a.release('conv:c_lapse:0')
    expect(await b.owner('conv:c_lapse:0')).toBe('b')
  })

  it('a holder cut off from Redis gives its leases up once their lifetime has passed', async () => {
    const lost: Lease[] = []
    const { set: a, redis } = leases('a', { onLost: (l) => lost.push(l) })
    await a.acquire('conv:c_cut:0')
    redis.disconnect()
    await sleep(700)
    expect(lost.map((l) => l.doc)).toEqual(['conv:c_cut:0'])
    expect((await leases('b').set.acquire('conv:c_cut:0'))?.fence).toBe(2)
  })

  it('holds at most maxLeases docs', async () => {
    const a = leases('a', { maxLeases: 2 }).set
    expect(await a.acquire('conv:c_m1:0')).not.toBeNull()
    expect(await a.acquire('conv:c_m2:0')).not.toBeNull()
    expect(await a.acquire('conv:c_m3:0')).toBeNull()
  })
})

const bytes = (n: number) => Uint8Array.of(n)

describe('the fence in the database refuses a deposed owner', () => {
  it('SQLite: two connections on one file; only the stale append of a batch is refused', async () => {
    const { file, remove } = scratchDb('fence')
    const dbA = openDb(file)
    const dbB = openDb(file)
    try {
      const a = new SqliteStore(dbA)
      const b = new SqliteStore(dbB)
      const doc = 'conv:c_fence:0'
      await a.appendUpdate(doc, bytes(1), (tx) => checkFenceSqlite(tx, doc, 1))
      await b.appendUpdate(doc, bytes(2), (tx) => checkFenceSqlite(tx, doc, 2))
      const late = await Promise.allSettled([
        a.appendUpdate(doc, bytes(3), (tx) => checkFenceSqlite(tx, doc, 1)),
        a.appendUpdate('conv:c_other:0', bytes(4), (tx) => checkFenceSqlite(tx, 'conv:c_other:0', 1))
      ])
      expect(late[0].status === 'rejected' && late[0].reason).toBeInstanceOf(FencedOut)
      expect(late[1].status).toBe('fulfilled')
      await b.appendUpdate(doc, bytes(5), (tx) => checkFenceSqlite(tx, doc, 2))
      expect((await b.loadDoc(doc)).map((u) => u[0])).toEqual([1, 2, 5])
      // A third owner's claim, before it loads, refuses the second's next write.
      checkFenceSqlite(dbA, doc, 3)
      await expect(b.appendUpdate(doc, bytes(6), (tx) => checkFenceSqlite(tx, doc, 2))).rejects.toBeInstanceOf(FencedOut)
      expect((await a.loadDoc(doc)).map((u) => u[0])).toEqual([1, 2, 5])
    } finally {
      dbA.$client.close()
      dbB.$client.close()
      remove()
    }
  })

  it('PostgreSQL: a new owner claims its fence before loading; what its predecessor commits around the claim is loaded or refused', async () => {
    const scratch = await createScratchDatabase()
    const dbA = await openPgDb(scratch.url, { max: 2 })
    const dbB = await openPgDb(scratch.url, { max: 2 })
    try {
      const a = new PgDocStore(dbA)
      const b = new PgDocStore(dbB)
      const doc = 'conv:c_fence:0'
      await a.appendUpdate(doc, bytes(1), (tx) => checkFencePg(tx, doc, 1))
      // Racing the claim: the late append lands before it (then the load sees it) or is refused.
      const [late, claim] = await Promise.allSettled([
        a.appendUpdate(doc, bytes(3), (tx) => checkFencePg(tx, doc, 1)),
        checkFencePg(dbB, doc, 2)
      ])
      expect(claim.status).toBe('fulfilled')
      const loaded = (await b.loadDoc(doc)).map((u) => u[0])
      if (late.status === 'fulfilled') expect(loaded).toEqual([1, 3])
      else {
        expect(late.reason).toBeInstanceOf(FencedOut)
        expect(loaded).toEqual([1])
      }
      await expect(a.appendUpdate(doc, bytes(4), (tx) => checkFencePg(tx, doc, 1))).rejects.toBeInstanceOf(FencedOut)
      await b.appendUpdate(doc, bytes(2), (tx) => checkFencePg(tx, doc, 2))
      expect((await b.loadDoc(doc)).map((u) => u[0])).toEqual([...loaded, 2])
    } finally {
      await dbA.$client.end()
      await dbB.$client.end()
      await scratch.drop()
    }
  })

  it('an owner process paused past its lease: the next owner writes, the paused one\'s late write is refused', async () => {
    const { file, remove } = scratchDb('fence-proc')
    const doc = 'conv:c_pause:0'
    const ttl = 400
    const db = openDb(file) // migrates before the child opens the file
    try {
      const { child, lines, until } = redis.spawn('child-owner.ts', [file, doc, REDIS_URL, prefix, String(ttl)])
      await until(() => lines.filter((l) => l.startsWith('ack ')).length >= 20)
      child.stdin!.write('pause 1500\n')
      await sleep(ttl * 2)
      const lease = await leases('parent').set.acquire(doc)
      expect(lease?.fence).toBe(2)
      checkFenceSqlite(db, doc, lease!.fence) // the claim a new owner makes before loading
      const store = new SqliteStore(db)
      for (let n = 0; n < 5; n++) await store.appendUpdate(doc, Uint8Array.of(2, n), (tx) => checkFenceSqlite(tx, doc, lease!.fence))
      await until(() => lines.includes('lost'))
      const fenced = lines.filter((l) => l.startsWith('fenced '))
      expect(fenced.length).toBeGreaterThanOrEqual(1)
      expect(lines.filter((l) => l.startsWith('error '))).toEqual([])
      child.kill('SIGKILL')
      // The log: every update the child was told landed, all of them before the new owner's.
      const log = (await store.loadDoc(doc)).map((u) => (u[0] === 1 ? `c${new Uint32Array(u.slice(1).buffer)[0]}` : `p${u[1]}`))
      const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => `c${l.slice(4)}`)
      const firstParent = log.indexOf('p0')
      expect(log.slice(firstParent)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4'])
      expect(log.slice(0, firstParent)).toEqual(acked.slice(0, firstParent))
      expect(acked.length).toBe(firstParent)
    } finally {
      db.$client.close()
      remove()
    }
  })
})
