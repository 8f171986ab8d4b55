import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { SyncServer } from '@circlechat/sync-server'

/** How long a member counts as connected after their process last said so: a killed process's members count as away after this. */
const ONLINE_MS = 30_000
const RENEW_MS = 10_000
/** The pass lock outlives its last renewal by this; a pass renews it before each mail. */
const LOCK_MS = 60_000
/** Members written per pipeline: the socket limits bound the whole set, this bounds one round trip. */
const CHUNK = 500

// Deletes or renews the lock only while it is this process's (it may have expired and moved on).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end return 0`

/**
 * With CLUSTER=redis, what the mention digest needs from the other processes: one pass at a time
 * in the whole cluster (a lock with a holder and a TTL), and who is connected to any process
 * (`digest-online:<member>`, written every 10 s by the process holding their sockets, expiring
 * 30 s after it stops saying so).
 */
export class DigestShare {
  readonly #redis: Redis
  readonly #id = randomUUID()
  readonly #timer: NodeJS.Timeout

  constructor(url: string, private readonly prefix: string, private readonly sync: SyncServer) {
    // Commands fail within 2 s while Redis is away: the pass is then skipped, never run blind.
    this.#redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2000 })
    this.#redis.on('error', () => {})
    this.#timer = setInterval(() => void this.publish().catch((err: Error) => console.error('could not share connected members', err.message)), RENEW_MS)
    this.#timer.unref()
  }

  #online(memberId: string) {
    return `${this.prefix}digest-online:${memberId}`
  }

  get #lock() {
    return `${this.prefix}digest-pass`
  }

  /** Says, for ONLINE_MS, that this process's connected members are connected. */
  async publish(): Promise<void> {
    const members = [...this.sync.connectedMembers()]
    for (let i = 0; i < members.length; i += CHUNK) {
      const batch = this.#redis.pipeline()
      for (const m of members.slice(i, i + CHUNK)) batch.set(this.#online(m), '1', 'PX', ONLINE_MS)
      await batch.exec()
    }
  }

  /** Of these members, those connected to some process (this one included). */
  async connected(memberIds: string[]): Promise<Set<string>> {
    const here = this.sync.connectedMembers()
    const elsewhere = memberIds.length ? await this.#redis.mget(memberIds.map((m) => this.#online(m))) : []
    return new Set(memberIds.filter((m, i) => here.has(m) || elsewhere[i] !== null))
  }

  /** Takes the cluster's pass lock; false while another process holds it. */
  async lock(): Promise<boolean> {
    return (await this.#redis.set(this.#lock, this.#id, 'PX', LOCK_MS, 'NX')) === 'OK'
  }

  /** Extends the lock before a mail; false when it expired and another process may be passing. */
  async stillLocked(): Promise<boolean> {
    return (await this.#redis.eval(RENEW, 1, this.#lock, this.#id, LOCK_MS)) === 1
  }

  async unlock(): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#lock, this.#id)
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.unlock().catch(() => {})
    this.#redis.disconnect()
  }
}
