import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Forwarder, NoReply, type ForwardedUpdate, type ForwardOptions } from '../src/cluster/forward.js'
import { StreamReader } from '../src/cluster/stream-reader.js'
import { redisScratch } from './cluster-setup.js'

const redis = redisScratch()
const { prefix } = redis
const open: Array<{ forwarder: Forwarder; reader: StreamReader }> = []

/** One process's forwarder: a shared connection, a blocking reader and a subscriber of its own. */
async function proc(holder: string, opts: Partial<ForwardOptions> = {}) {
  const shared = redis.connect()
  const reader = new StreamReader(shared, redis.connect(), { maxStreams: 100, blockMs: 10_000, readCount: 100 })
  const forwarder = new Forwarder(shared, redis.connect(), reader, { prefix, holder, maxLen: 1000, maxPending: 100, replyTimeoutMs: 5000, ...opts })
  await forwarder.start()
  open.push({ forwarder, reader })
  return forwarder
}

afterEach(async () => {
  for (const { forwarder, reader } of open.splice(0)) {
    await forwarder.close()
    await reader.close()
  }
  redis.disconnect()
})
afterAll(() => redis.cleanup())

describe('forwarding to the owner', () => {
  it('the owner gets each forwarded update in order and its answers reach the sender', async () => {
    const doc = 'conv:c_fw:0'
    const owner = await proc('owner')
    const sender = await proc('sender')
    const seen: ForwardedUpdate[] = []
    owner.serve(doc, await owner.tail(doc), (r) => {
      seen.push(r)
      void owner.reply(r, r.update[0] === 3 ? { kind: 'reject', reason: 'forged', detail: 'not yours' } : { kind: 'ack' })
    })
    const replies = await Promise.all([1, 2, 3].map((n) => sender.forward(doc, '{"memberId":"m_a"}', Uint8Array.of(n))))
    expect(replies).toEqual([{ kind: 'ack' }, { kind: 'ack' }, { kind: 'reject', reason: 'forged', detail: 'not yours' }])
    expect(seen.map((r) => [r.from, r.principal, [...r.update]])).toEqual([1, 2, 3].map((n) => ['sender', '{"memberId":"m_a"}', [n]]))
  })

  it('an unanswered update fails with NoReply, and the awaited answers are bounded', async () => {
    const sender = await proc('lonely', { replyTimeoutMs: 200, maxPending: 1 })
    const first = sender.forward('conv:c_none:0', '{}', Uint8Array.of(1))
    await expect(sender.forward('conv:c_none:0', '{}', Uint8Array.of(2))).rejects.toBeInstanceOf(NoReply)
    await expect(first).rejects.toBeInstanceOf(NoReply)
  })

  it('a new owner serves what was forwarded after it noted the tail, not its predecessor\'s backlog', async () => {
    const doc = 'conv:c_takeover:0'
    const sender = await proc('s2', { replyTimeoutMs: 300 })
    const orphan = sender.forward(doc, '{}', Uint8Array.of(1)).catch((e: unknown) => e)
    const next = await proc('next-owner')
    await new Promise((r) => setTimeout(r, 50))
    const seen: number[] = []
    next.serve(doc, await next.tail(doc), (r) => {
      seen.push(r.update[0]!)
      void next.reply(r, { kind: 'ack' })
    })
    expect(await sender.forward(doc, '{}', Uint8Array.of(2))).toEqual({ kind: 'ack' })
    expect(await orphan).toBeInstanceOf(NoReply) // its client re-syncs and resends it
    expect(seen).toEqual([2])
  })

  it('each request stream is trimmed', async () => {
    const sender = await proc('bulk', { maxLen: 10, maxPending: 1000, replyTimeoutMs: 2000 })
    const sent = Array.from({ length: 300 }, (_, n) => sender.forward('conv:c_bulk:0', '{}', Uint8Array.of(n % 256)).catch(() => {}))
    await new Promise((r) => setTimeout(r, 200))
    expect(await redis.connect().xlen(`${prefix}req:conv:c_bulk:0`)).toBeLessThanOrEqual(110)
    await sender.close()
    await Promise.all(sent)
  })
})
