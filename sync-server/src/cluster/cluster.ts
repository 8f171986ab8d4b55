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

/** What closes sockets on every process, not only on the one the request came to (types.ts). */
export type Revocation =
  | { kind: 'credential'; credentialId: string }
  | { kind: 'member'; memberId: string }
  | { kind: 'reauthorize'; memberId: string }
  | { kind: 'conversation'; memberId: string; conversationId: string }

const isRevocation = (r: unknown): r is Revocation => {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  const str = (k: string) => typeof o[k] === 'string'
  return o.kind === 'credential' ? str('credentialId') : o.kind === 'member' || o.kind === 'reauthorize' ? str('memberId') : o.kind === 'conversation' && str('memberId') && str('conversationId')
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
  readonly leaseTtlMs: number
  readonly #conns: readonly [Redis, Redis, Redis]
  readonly #revocations: string
  readonly ready: Promise<void>

  /** `onRevoke`: another process revoked access; close the sockets it names here too. */
  constructor(opts: ClusterOptions, onLost: (lease: Lease) => void, onRevoke: (revocation: Revocation) => void) {
    const d = clusterDefaults
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
    this.replyTimeoutMs = opts.replyTimeoutMs ?? d.replyTimeoutMs
    this.leaseTtlMs = opts.leaseTtlMs ?? d.leaseTtlMs
    const conns = [new Redis(opts.redisUrl), new Redis(opts.redisUrl), new Redis(opts.redisUrl)] as const
    this.#conns = conns
    for (const c of conns) c.on('error', (err: Error) => console.warn('cluster: redis', err.message))
    const [redis, blocking, sub] = conns
    const { prefix, holder } = { prefix: opts.prefix, holder: this.holder }
    this.leases = new OwnerLeases(redis, { prefix, holder, ttlMs: this.leaseTtlMs, maxLeases: d.maxDocs, onLost })
    this.reader = new StreamReader(redis, blocking, { maxStreams: d.maxDocs, blockMs: d.blockMs, readCount: d.readCount })
    this.feed = new DocFeed(redis, this.reader, { prefix, maxLen: d.streamMaxLen })
    this.forwarder = new Forwarder(redis, sub, this.reader, { prefix, holder, maxLen: d.streamMaxLen, maxPending: d.maxPending, replyTimeoutMs: this.replyTimeoutMs })
    this.awareness = new AwarenessBus(redis, sub, { prefix, holder, maxDocs: d.maxDocs })
    // Pub/sub: a process whose subscriber was cut off misses a revocation; its sockets' writes
    // are still re-checked each time, so what it misses is reads until they reconnect.
    this.#revocations = `${prefix}revoke`
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() !== this.#revocations) return
      try {
        const { from, revocation } = JSON.parse(message.toString()) as { from: unknown; revocation: unknown }
        if (from !== this.holder && isRevocation(revocation)) onRevoke(revocation)
      } catch (err) {
        console.warn('cluster: unreadable revocation', err instanceof Error ? err.message : err)
      }
    })
    this.ready = Promise.all([this.forwarder.start(), sub.subscribe(this.#revocations)]).then(() => {})
    this.ready.catch(() => {}) // awaited by every load; an unhandled rejection would end the process
  }

  /** Tells the other processes; best effort (see the subscriber above). */
  revoke(revocation: Revocation): void {
    void this.#conns[0].publish(this.#revocations, JSON.stringify({ from: this.holder, revocation })).catch((err: Error) => console.warn('cluster: revocation not sent', err.message))
  }

  /** Releases every lease (the next process takes them at once) and disconnects. */
  async close(): Promise<void> {
    await this.leases.close().catch(() => {})
    await this.forwarder.close()
    await this.reader.close()
    for (const c of this.#conns) c.disconnect()
  }
}
