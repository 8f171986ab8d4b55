import type { Redis } from 'ioredis'

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
  /** Docs followed at once: follow refuses beyond it. */
  maxFollowed: number
  /** Longest block of one XREAD; a newly followed doc interrupts it. */
  blockMs: number
  /** Entries read per doc per XREAD. */
  readCount: number
}

interface Follow {
  handler: FeedHandler
  last: string
  seq: FeedSeq | null
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
  readonly #reader: Redis
  readonly #opts: FeedOptions
  readonly #follows = new Map<string, Follow>()
  #readerId: number | null = null
  #blocked = false
  #closed = false
  #loop: Promise<void> | null = null

  /** `reader` is a connection of its own: XREAD BLOCK holds it. */
  constructor(redis: Redis, reader: Redis, opts: FeedOptions) {
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

  /** Delivers every entry after `from` to `handler`, in order; false when too many are followed. */
  follow(doc: string, from: string, handler: FeedHandler): boolean {
    if (this.#follows.has(doc)) throw new Error(`${doc} is followed already`)
    if (this.#follows.size >= this.#opts.maxFollowed) return false
    this.#follows.set(doc, { handler, last: from, seq: null })
    this.#loop ??= this.#run()
    this.#interrupt()
    return true
  }

  unfollow(doc: string): void {
    this.#follows.delete(doc)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#follows.clear()
    this.#interrupt()
    await this.#loop
  }

  async #run() {
    this.#readerId = (await this.#reader.client('ID')) as number
    while (!this.#closed) {
      const docs = [...this.#follows.keys()]
      if (docs.length === 0) {
        this.#loop = null
        return
      }
      let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null
      try {
        this.#blocked = true
        reply = (await this.#reader.xreadBuffer('COUNT', this.#opts.readCount, 'BLOCK', this.#opts.blockMs, 'STREAMS', ...docs.map((d) => this.#key(d)), ...docs.map((d) => this.#follows.get(d)!.last))) as typeof reply
      } catch (err) {
        if (!this.#closed && !String(err).includes('UNBLOCKED')) {
          console.error('doc feed: read failed', err)
          await new Promise((r) => setTimeout(r, this.#opts.blockMs))
        }
        continue
      } finally {
        this.#blocked = false
      }
      for (const [key, entries] of reply ?? []) this.#deliver(key.toString().slice(this.#opts.prefix.length + 4), entries)
    }
  }

  #deliver(doc: string, entries: Array<[Buffer, Buffer[]]>) {
    const follow = this.#follows.get(doc)
    if (!follow) return
    for (const [rawId, fields] of entries) {
      const f = new Map<string, Buffer>()
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!.toString(), fields[i + 1]!)
      const update = f.get('update')!
      const entry: FeedEntry = {
        id: rawId.toString(),
        fence: Number(f.get('fence')),
        n: Number(f.get('n')),
        origin: f.get('origin')?.toString() ?? '',
        update: new Uint8Array(update.buffer, update.byteOffset, update.byteLength)
      }
      follow.last = entry.id
      const prev = follow.seq
      // Same owner: its publishes are numbered 1, 2, …; a jump is a hole. Another owner: its
      // predecessor may have committed without publishing (killed in between).
      const gap = prev !== null && (entry.fence !== prev.fence ? entry.fence > prev.fence : entry.n !== prev.n + 1)
      if (prev === null || entry.fence >= prev.fence) follow.seq = { fence: entry.fence, n: entry.n }
      try {
        if (gap) follow.handler.onGap()
        follow.handler.onEntry(entry)
      } catch (err) {
        console.error('doc feed: handler failed', doc, err)
      }
      if (this.#follows.get(doc) !== follow) return
    }
  }

  #interrupt() {
    if (!this.#blocked || this.#readerId === null) return
    void this.#redis.client('UNBLOCK', this.#readerId, 'ERROR').catch(() => {})
  }

  #key(doc: string) {
    return `${this.#opts.prefix}doc:${doc}`
  }
}
