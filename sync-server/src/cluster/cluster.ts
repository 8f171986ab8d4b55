import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { AwarenessBus } from './awareness-bus.js'
import { DocFeed } from './doc-feed.js'
import { Forwarder } from './forward.js'
import { OwnerLeases, type Lease } from './lease.js'
import { StreamReader } from './stream-reader.js'

/** `CLUSTER=redis`: several relay processes share documents through one Redis (see decisions). */
export interface ClusterOptions {
  redisUrl: string
  /** Prefix of every key and channel: one per installation. */
  prefix: string
  /** This process's name in leases and reply channels; unique per start (default host:pid:random). */
  holder?: string
  /** A dead owner's docs move after this long (lease.ts). */
  leaseTtlMs?: number
  /** A forwarded update unanswered this long sends its clients to re-sync (forward.ts). */
  replyTimeoutMs?: number
}

export const clusterDefaults = {
  /** Failover within ~5 s of an owner's death; renewals every third of it. */
  leaseTtlMs: 5000,
  /** Past a lease's lifetime: an owner that died is replaced before its followers give up twice. */
  replyTimeoutMs: 6000,
  /** Entries kept per doc stream and request stream (MAXLEN ~): catch-up for late joiners. */
  streamMaxLen: 1000,
  /** Docs one process owns, follows and carries presence for (each bounded on its own). */
  maxDocs: 10_000,
  /** Forwarded updates awaiting their owner's answer. */
  maxPending: 4096,
  blockMs: 10_000,
  readCount: 256
}

/** A room's part in the cluster: its owner decides and commits, a follower relays the feed. */
export type RoomRole =
  | { kind: 'owner'; lease: Lease; /** publishes so far */ n: number; /** settles after the last publish and answer */ published: Promise<void> }
  | { kind: 'follower' }

/**
 * The Redis side of one process: three connections (commands, the blocking reader, a
 * subscriber) and the building blocks over them.
 */
export class Cluster {
  readonly holder: string
  readonly leases: OwnerLeases
  readonly reader: StreamReader
  readonly feed: DocFeed
  readonly forwarder: Forwarder
  readonly awareness: AwarenessBus
  readonly replyTimeoutMs: number
  readonly #conns: readonly [Redis, Redis, Redis]
  readonly ready: Promise<void>

  constructor(opts: ClusterOptions, onLost: (lease: Lease) => void) {
    const d = clusterDefaults
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    this.replyTimeoutMs = opts.replyTimeoutMs ?? d.replyTimeoutMs
    const conns = [new Redis(opts.redisUrl), new Redis(opts.redisUrl), new Redis(opts.redisUrl)] as const
    this.#conns = conns
    for (const c of conns) c.on('error', (err: Error) => console.warn('cluster: redis', err.message))
    const [redis, blocking, sub] = conns
    const { prefix, holder } = { prefix: opts.prefix, holder: this.holder }
    this.leases = new OwnerLeases(redis, { prefix, holder, ttlMs: opts.leaseTtlMs ?? d.leaseTtlMs, maxLeases: d.maxDocs, onLost })
    this.reader = new StreamReader(redis, blocking, { maxStreams: d.maxDocs, blockMs: d.blockMs, readCount: d.readCount })
    this.feed = new DocFeed(redis, this.reader, { prefix, maxLen: d.streamMaxLen })
    this.forwarder = new Forwarder(redis, sub, this.reader, { prefix, holder, maxLen: d.streamMaxLen, maxPending: d.maxPending, replyTimeoutMs: this.replyTimeoutMs })
    this.awareness = new AwarenessBus(redis, sub, { prefix, holder, maxDocs: d.maxDocs })
    this.ready = this.forwarder.start()
    this.ready.catch(() => {}) // awaited by every load; an unhandled rejection would end the process
  }

  /** Releases every lease (the next process takes them at once) and disconnects. */
  async close(): Promise<void> {
    await this.leases.close().catch(() => {})
    await this.forwarder.close()
    await this.reader.close()
    for (const c of this.#conns) c.disconnect()
  }
}
