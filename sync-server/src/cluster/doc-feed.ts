import type { Redis } from 'ioredis'
import type { StreamReader } from './stream-reader.js'

/** Where an entry sits in its owner's commit order: the owner's fence and its nth publish. */
export interface FeedSeq {
  fence: number
  n: number
}

/** One committed update as the owner published it. `origin` names the connection to ack. */
export interface FeedEntry extends FeedSeq {
  id: string
  update: Uint8Array
  origin: string
}

export interface FeedHandler {
  onEntry(entry: FeedEntry): void
  /** Entries may have been missed (trimmed, or a new owner whose predecessor died between its
   *  commit and its publish): reload the doc from the database, the record. */
  onGap(): void
}

export interface FeedOptions {
  prefix: string
  /** Entries kept per doc stream (MAXLEN ~): catch-up for a process that joins late. */
  maxLen: number
}

/**
 * Owner → everyone fan-out of committed updates, one Redis Stream per doc (`<prefix>doc:<doc>`).
 * A stream rather than pub/sub: a process that starts following after a publish still reads it
 * from the id it noted before loading the doc from the database. The stream is never the record:
 * the owner publishes after its commit, and a follower that sees a hole in the owner's sequence
 * (or a new owner) reloads from the database. Yjs applies an update once, so overlap is harmless.
 */
export class DocFeed {
  readonly #redis: Redis
  readonly #reader: StreamReader
  readonly #opts: FeedOptions

  constructor(redis: Redis, reader: StreamReader, opts: FeedOptions) {
    this.#redis = redis
    this.#reader = reader
    this.#opts = opts
  }

  /** Appends a committed update to the doc's stream; resolves with its id. */
  async publish(doc: string, seq: FeedSeq, update: Uint8Array, origin: string): Promise<string> {
    const id = await this.#redis.xadd(this.#key(doc), 'MAXLEN', '~', this.#opts.maxLen, '*', 'fence', seq.fence, 'n', seq.n, 'origin', origin, 'update', Buffer.from(update.buffer, update.byteOffset, update.byteLength))
    return id!
  }

  /** The id of the doc's newest entry ('0-0' if none): note it before loading from the database. */
  async tail(doc: string): Promise<string> {
    const [last] = await this.#redis.xrevrange(this.#key(doc), '+', '-', 'COUNT', 1)
    return last?.[0] ?? '0-0'
  }

  /** Delivers every entry after `from` to `handler`, in order; false when the reader is full. */
  follow(doc: string, from: string, handler: FeedHandler): boolean {
    let seq: FeedSeq | null = null
    return this.#reader.add(this.#key(doc), from, (entries) => {
      for (const { id, fields } of entries) {
        const update = fields.get('update')!
        const entry: FeedEntry = {
          id,
          fence: Number(fields.get('fence')),
          n: Number(fields.get('n')),
          origin: fields.get('origin')?.toString() ?? '',
          update: new Uint8Array(update.buffer, update.byteOffset, update.byteLength)
        }
        // Same owner: its publishes are numbered 1, 2, …; a jump is a hole. A newer owner: its
        // predecessor may have committed without publishing (killed in between).
        const gap = seq !== null && (entry.fence !== seq.fence ? entry.fence > seq.fence : entry.n !== seq.n + 1)
        if (seq === null || entry.fence >= seq.fence) seq = { fence: entry.fence, n: entry.n }
        if (gap) handler.onGap()
        handler.onEntry(entry)
      }
    })
  }

  unfollow(doc: string): void {
    this.#reader.remove(this.#key(doc))
  }

  #key(doc: string) {
    return `${this.#opts.prefix}doc:${doc}`
  }
}
