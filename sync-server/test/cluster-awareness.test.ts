import { afterAll, afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { AwarenessBus } from '../src/cluster/awareness-bus.js'
import { PresenceClaims } from '../src/cluster/presence-claims.js'
import { Forwarder } from '../src/cluster/forward.js'
import { StreamReader } from '../src/cluster/stream-reader.js'
import { redisScratch } from './cluster-setup.js'

const redis = redisScratch()
const { prefix } = redis
const cleanups: Array<() => Promise<void>> = []

/** One process: a shared connection and one subscriber connection for presence and replies. */
function proc(holder: string, maxDocs = 10) {
  const [shared, sub] = [redis.connect(), redis.connect()]
  return { redis: shared, sub, bus: new AwarenessBus(shared, sub, { prefix, holder, maxDocs }) }
}

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
  redis.disconnect()
})
afterAll(() => redis.cleanup())

/** Resolves with the next `n` updates handed to the returned handler. */
function inbox() {
  const got: number[][] = []
  let wake = () => {}
  return {
    got,
    onRemote: (u: Uint8Array) => { got.push([...u]); wake() },
    async until(n: number) {
      while (got.length < n) await new Promise<void>((r) => { wake = r })
    }
  }
}

describe('awareness across processes', () => {
  it('reaches the other processes on the doc, never echoes to its sender, stays per doc', async () => {
    const a = proc('a')
    const b = proc('b')
    const [aIn, bIn, bOther] = [inbox(), inbox(), inbox()]
    await a.bus.join('conv:c_aw:0', aIn.onRemote)
    await b.bus.join('conv:c_aw:0', bIn.onRemote)
    await b.bus.join('conv:c_aw2:0', bOther.onRemote)
    a.bus.publish('conv:c_aw:0', Uint8Array.of(1, 0, 2))
    b.bus.publish('conv:c_aw:0', Uint8Array.of(3))
    await Promise.all([aIn.until(1), bIn.until(1)])
    // A round trip through Redis on each connection: anything else would have arrived by now.
    await Promise.all([a.redis.ping(), b.redis.ping(), a.sub.ping(), b.sub.ping()])
    expect(aIn.got).toEqual([[3]])
    expect(bIn.got).toEqual([[1, 0, 2]])
    expect(bOther.got).toEqual([])
    await b.bus.leave('conv:c_aw:0')
    a.bus.publish('conv:c_aw:0', Uint8Array.of(4))
    b.bus.publish('conv:c_aw2:0', Uint8Array.of(5))
    await a.bus.join('conv:c_aw2:0', aIn.onRemote)
    b.bus.publish('conv:c_aw2:0', Uint8Array.of(6))
    await aIn.until(2)
    expect(aIn.got).toEqual([[3], [6]])
    expect(bIn.got).toEqual([[1, 0, 2]])
  })

  it('shares its subscriber connection with the forwarder, and joins at most maxDocs docs', async () => {
    const a = proc('fa', 1)
    const blocking = redis.connect()
    const reader = new StreamReader(a.redis, blocking, { maxStreams: 10, blockMs: 10_000, readCount: 10 })
    const forwarder = new Forwarder(a.redis, a.sub, reader, { prefix, holder: 'fa', maxLen: 100, maxPending: 10, replyTimeoutMs: 5000 })
    cleanups.push(async () => { await forwarder.close(); await reader.close() })
    await forwarder.start()
    const aIn = inbox()
    expect(await a.bus.join('conv:c_share:0', aIn.onRemote)).toBe(true)
    expect(await a.bus.join('conv:c_full:0', () => {})).toBe(false)
    const doc = 'conv:c_share:0'
    forwarder.serve(doc, await forwarder.tail(doc), (r) => void forwarder.reply(r, { kind: 'ack' }))
    const b = proc('fb')
    b.bus.publish(doc, Uint8Array.of(9))
    expect(await forwarder.forward(doc, '{}', Uint8Array.of(1))).toEqual({ kind: 'ack' })
    await aIn.until(1)
    expect(aIn.got).toEqual([[9]])
  })
})

describe('presence claims', () => {
  /** An awareness update of the given client ids' states (null: removed). */
  function update(states: Array<[number, object | null]>) {
    const doc = new Y.Doc()
    const aw = new Awareness(doc)
    const meta = aw.meta as Map<number, { clock: number; lastUpdated: number }>
    for (const [id, state] of states) {
      if (state) aw.states.set(id, state)
      meta.set(id, { clock: 1, lastUpdated: Date.now() })
    }
    const u = encodeAwarenessUpdate(aw, states.map(([id]) => id))
    aw.destroy()
    return u
  }
  /** The client ids an admitted update still carries. */
  const ids = (u: Uint8Array | null) => {
    if (!u) return []
    const d = decoding.createDecoder(u)
    return Array.from({ length: decoding.readVarUint(d) }, () => {
      const id = decoding.readVarUint(d)
      decoding.readVarUint(d)
      decoding.readVarString(d)
      return id
    })
  }

  it('keeps an id for the first process heard with it, drops the others\' and the local ids, frees it on removal, and holds at most max', () => {
    const claims = new PresenceClaims(2)
    const local = new Set([5])
    const admit = (from: string, states: Array<[number, object | null]>) => claims.admit(update(states), from, (id) => local.has(id))
    expect(ids(admit('a', [[7, { m: 1 }], [5, { m: 2 }]]))).toEqual([7])
    expect(claims.has(7)).toBe(true)
    expect(claims.has(5)).toBe(false) // ours: never taken from the bus
    expect(admit('b', [[7, { m: 3 }]])).toBeNull() // a's
    expect(admit('a', [[8, { m: 4 }]])).not.toBeNull()
    expect(admit('b', [[9, { m: 5 }]])).toBeNull() // full
    expect(admit('b', [[7, null]])).toBeNull() // only a removes a's
    expect(admit('a', [[7, null]])).not.toBeNull()
    expect(claims.has(7)).toBe(false)
    expect(admit('b', [[7, { m: 6 }]])).not.toBeNull()
    expect(() => claims.admit(Uint8Array.of(3, 1), 'a', () => false)).toThrow()
  })
})
