import type { Redis } from 'ioredis'

/** A doc's lease as held by this process: `fence` goes with every write it commits (fence.ts). */
export interface Lease {
  readonly doc: string
  readonly fence: number
}

export interface LeaseOptions {
  /** Prefix of every key (`<prefix>owner:<doc>`, `<prefix>fence:<doc>`): one per installation. */
  prefix: string
  /** This process's name in the owner key: other processes forward to it (unique per start). */
  holder: string
  /** A lease not renewed this long lapses and another process may take the doc. */
  ttlMs: number
  /** At most this many docs owned at once: acquire refuses beyond it. */
  maxLeases: number
  /** Called once per lease this process stopped holding without releasing it. */
  onLost: (lease: Lease) => void
}

// Taking the lease and raising the fence in one script: no process can hold a lease whose fence
// a later holder's does not exceed.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false`
// Only the holder extends or drops its lease: a lapsed one may already be another's.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`

/**
 * Per-document owner leases in Redis. A lease is a key set NX with an expiry, renewed by its
 * holder every third of its lifetime; the fence is a counter raised on each acquisition. Redis
 * decides who owns a doc, but only the database decides whose write lands: a holder paused past
 * its expiry still believes it owns the doc until its next renewal fails, and its late writes
 * are refused by the fence stored with the log, not by anything here.
 */
export class OwnerLeases {
  readonly #redis: Redis
  readonly #opts: LeaseOptions
  readonly #held = new Map<string, { lease: Lease; renewedAt: number }>()
  readonly #timer: NodeJS.Timeout
  #renewing = false

  constructor(redis: Redis, opts: LeaseOptions) {
    this.#redis = redis
    this.#opts = opts
    this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(opts.ttlMs / 3)))
    this.#timer.unref()
  }

  /** Takes `doc` if nobody holds it; null if another process does (or this one is full). */
  async acquire(doc: string): Promise<Lease | null> {
    const held = this.#held.get(doc)
    if (held) return held.lease
    if (this.#held.size >= this.#opts.maxLeases) return null
    const started = Date.now()
    const fence = (await this.#redis.eval(ACQUIRE, 2, this.#ownerKey(doc), this.#fenceKey(doc), this.#opts.holder, this.#opts.ttlMs)) as number | null
    if (fence === null) return null
    const lease = { doc, fence }
    this.#held.set(doc, { lease, renewedAt: started })
    return lease
  }

  /** The lease this process holds on `doc`, if it still believes it does. */
  held(doc: string): Lease | null {
    return this.#held.get(doc)?.lease ?? null
  }

  /** Which process holds `doc` (its `holder`), or null if nobody does. */
  owner(doc: string): Promise<string | null> {
    return this.#redis.get(this.#ownerKey(doc))
  }

  /** Which process holds each of `docs` (null: nobody), in one round trip. */
  async owners(docs: string[]): Promise<Array<string | null>> {
    if (docs.length === 0) return []
    return this.#redis.mget(...docs.map((doc) => this.#ownerKey(doc)))
  }

  /** Gives `doc` up (its writes committed): the next process to open it takes it at once. */
  async release(doc: string): Promise<void> {
    if (!this.#held.delete(doc)) return
    await this.#redis.eval(RELEASE, 1, this.#ownerKey(doc), this.#opts.holder)
  }

  /** Stops renewing and releases every lease. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await Promise.all([...this.#held.keys()].map((doc) => this.release(doc)))
  }

  async #renew() {
    if (this.#renewing || this.#held.size === 0) return
    this.#renewing = true
    try {
      const entries = [...this.#held.values()]
      const started = Date.now()
      const pipeline = this.#redis.pipeline()
      for (const { lease } of entries) pipeline.eval(RENEW, 1, this.#ownerKey(lease.doc), this.#opts.holder, this.#opts.ttlMs)
      const results = (await pipeline.exec()) ?? []
      entries.forEach((entry, i) => {
        const [err, renewed] = results[i] ?? [new Error('no reply'), 0]
        if (!err && renewed === 1) entry.renewedAt = started
        else if (err === null || Date.now() - entry.renewedAt >= this.#opts.ttlMs) this.#lose(entry.lease)
      })
    } catch {
      // Redis unreachable: each lease is lost once its lifetime has passed without a renewal.
      for (const entry of [...this.#held.values()]) if (Date.now() - entry.renewedAt >= this.#opts.ttlMs) this.#lose(entry.lease)
    } finally {
      this.#renewing = false
    }
  }

  #lose(lease: Lease) {
    if (this.#held.get(lease.doc)?.lease !== lease) return
    this.#held.delete(lease.doc)
    try {
      this.#opts.onLost(lease)
    } catch (err) {
      console.error('lease: onLost failed', lease.doc, err)
    }
  }

  #ownerKey(doc: string) {
    return `${this.#opts.prefix}owner:${doc}`
  }

  #fenceKey(doc: string) {
    return `${this.#opts.prefix}fence:${doc}`
  }
}
