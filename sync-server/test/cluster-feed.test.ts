import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DocFeed, type FeedEntry } from '../src/cluster/doc-feed.js'
import { StreamReader, type ReaderOptions } from '../src/cluster/stream-reader.js'
import { redisScratch } from './cluster-setup.js'

const redis = redisScratch()
const { prefix } = redis
const readers: StreamReader[] = []

/** One process's feed: a shared connection, and the blocking reader on one of its own. */
function feed({ maxLen = 1000, ...opts }: Partial<ReaderOptions & { maxLen: number }> = {}) {
  const shared = redis.connect()
  const reader = new StreamReader(shared, redis.connect(), { maxStreams: 100, blockMs: 10_000, readCount: 100, ...opts })
  readers.push(reader)
  return new DocFeed(shared, reader, { prefix, maxLen })
}

/** Collects what a follower is handed; resolves `until` once it holds `n` entries. */
function collector() {
  const entries: FeedEntry[] = []
  let gaps = 0
  let wake = () => {}
  return {
    entries,
    get gaps() { return gaps },
    handler: { onEntry: (e: FeedEntry) => { entries.push(e); wake() }, onGap: () => { gaps++ } },
    async until(n: number) {
      while (entries.length < n) await new Promise<void>((r) => { wake = r })
    }
  }
}

afterEach(async () => {
  for (const reader of readers.splice(0)) await reader.close()
  redis.disconnect()
})
afterAll(() => redis.cleanup())

const u = (...b: number[]) => Uint8Array.from(b)

describe('doc feed', () => {
  // A reader blocked for a minute: a new doc that waited for that would fail the 5 s timeout.
  it('a follower gets the owner\'s entries in order, also on a doc followed while it was blocked', { timeout: 5000 }, async () => {
    const owner = feed()
    const follower = feed({ blockMs: 60_000 })
    const a = collector()
    follower.follow('conv:c_a:0', '0-0', a.handler)
    await owner.publish('conv:c_a:0', { fence: 1, n: 1 }, u(1), 'p1/c1')
    await a.until(1)
    // The reader is blocked on conv:c_a:0; following another doc must not wait for that.
    const b = collector()
    follower.follow('conv:c_b:0', '0-0', b.handler)
    await owner.publish('conv:c_b:0', { fence: 1, n: 1 }, u(7, 8), '')
    await b.until(1)
    await owner.publish('conv:c_a:0', { fence: 1, n: 2 }, u(2), '')
    await a.until(2)
    expect(a.entries.map((e) => [e.fence, e.n, [...e.update], e.origin])).toEqual([[1, 1, [1], 'p1/c1'], [1, 2, [2], '']])
    expect(b.entries.map((e) => [...e.update])).toEqual([[7, 8]])
    expect(a.gaps + b.gaps).toBe(0)
  })

  it('a process that joins late reads everything after the tail it noted before loading the doc', async () => {
    const owner = feed()
    for (let n = 1; n <= 3; n++) await owner.publish('conv:c_late:0', { fence: 1, n }, u(n), '')
    const late = feed()
    const from = await late.tail('conv:c_late:0')
    for (let n = 4; n <= 5; n++) await owner.publish('conv:c_late:0', { fence: 1, n }, u(n), '')
    const c = collector()
    late.follow('conv:c_late:0', from, c.handler)
    await c.until(2)
    expect(c.entries.map((e) => e.update[0])).toEqual([4, 5])
    expect(await late.tail('conv:empty:0')).toBe('0-0')
  })

  it('a hole in the owner\'s sequence or a new owner sends the follower back to the database', async () => {
    const owner = feed()
    const c = collector()
    feed().follow('conv:c_gap:0', '0-0', c.handler)
    await owner.publish('conv:c_gap:0', { fence: 1, n: 1 }, u(1), '')
    await owner.publish('conv:c_gap:0', { fence: 1, n: 2 }, u(2), '')
    await c.until(2)
    expect(c.gaps).toBe(0)
    await owner.publish('conv:c_gap:0', { fence: 1, n: 4 }, u(4), '')
    await c.until(3)
    expect(c.gaps).toBe(1)
    await owner.publish('conv:c_gap:0', { fence: 2, n: 1 }, u(5), '')
    await c.until(4)
    expect(c.gaps).toBe(2)
    // A deposed owner's publish (its commit landed before the fence moved): applied, no reload.
    await owner.publish('conv:c_gap:0', { fence: 1, n: 5 }, u(6), '')
    await owner.publish('conv:c_gap:0', { fence: 2, n: 2 }, u(7), '')
    await c.until(6)
    expect(c.gaps).toBe(2)
  })

  it('each stream is trimmed, and follow refuses past the reader bound', async () => {
    const owner = feed({ maxLen: 10, maxStreams: 1 })
    for (let n = 1; n <= 500; n++) await owner.publish('conv:c_trim:0', { fence: 1, n }, u(n % 256), '')
    // MAXLEN ~ trims whole macro nodes (100 entries by default).
    expect(await redis.connect().xlen(`${prefix}doc:conv:c_trim:0`)).toBeLessThanOrEqual(110)
    expect(owner.follow('conv:c_x:0', '0-0', collector().handler)).toBe(true)
    expect(owner.follow('conv:c_y:0', '0-0', collector().handler)).toBe(false)
  })
})
