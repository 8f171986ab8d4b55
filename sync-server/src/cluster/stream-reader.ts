import type { Redis } from 'ioredis'

export interface StreamEntry {
  id: string
  fields: Map<string, Buffer>
}

export interface ReaderOptions {
  /** Streams read at once: add refuses beyond it. */
  maxStreams: number
  /** Longest block of one XREAD; adding a stream interrupts it. */
  blockMs: number
  /** Entries read per stream per XREAD. */
  readCount: number
}

interface Reading {
  last: string
  onEntries: (entries: StreamEntry[]) => void
}

/**
 * One blocking XREAD over every stream this process reads (docs it follows, docs it owns),
 * on a connection of its own. Adding a stream interrupts the block with CLIENT UNBLOCK from the
 * other connection, so a newly added stream never waits for `blockMs`.
 */
export class StreamReader {
  readonly #redis: Redis
  readonly #reader: Redis
  readonly #opts: ReaderOptions
  readonly #streams = new Map<string, Reading>()
  #readerId: number | null = null
  #blocked = false
  #closed = false
  #loop: Promise<void> | null = null

  /** `reader` is a connection of its own (XREAD BLOCK holds it); `redis` may be shared. */
  constructor(redis: Redis, reader: Redis, opts: ReaderOptions) {
    this.#redis = redis
    this.#reader = reader
    this.#opts = opts
  }

  /** Hands every entry of `key` after `from` to `onEntries`, in order; false when full. */
  add(key: string, from: string, onEntries: (entries: StreamEntry[]) => void): boolean {
    if (this.#streams.has(key)) throw new Error(`${key} is read already`)
    if (this.#closed || this.#streams.size >= this.#opts.maxStreams) return false
    this.#streams.set(key, { last: from, onEntries })
    this.#loop ??= this.#run()
    this.#interrupt()
    return true
  }

  remove(key: string): void {
    this.#streams.delete(key)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#streams.clear()
    this.#interrupt()
    await this.#loop
  }

  async #run() {
    this.#readerId ??= (await this.#reader.client('ID')) as number
    while (!this.#closed && this.#streams.size > 0) {
      const keys = [...this.#streams.keys()]
      let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null
      try {
        this.#blocked = true
        reply = (await this.#reader.xreadBuffer('COUNT', this.#opts.readCount, 'BLOCK', this.#opts.blockMs, 'STREAMS', ...keys, ...keys.map((k) => this.#streams.get(k)!.last))) as typeof reply
      } catch (err) {
        if (!this.#closed && !String(err).includes('UNBLOCKED')) {
          console.error('stream reader: read failed', err)
          // A reconnected connection has a new client id: ask again before the next interrupt.
          this.#readerId = (await this.#reader.client('ID').catch(() => null)) as number | null
          await new Promise((r) => setTimeout(r, Math.min(this.#opts.blockMs, 1000)))
        }
        continue
      } finally {
        this.#blocked = false
      }
      for (const [rawKey, raw] of reply ?? []) {
        const reading = this.#streams.get(rawKey.toString())
        if (!reading || raw.length === 0) continue
        const entries = raw.map(([id, flat]) => {
          const fields = new Map<string, Buffer>()
          for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!.toString(), flat[i + 1]!)
          return { id: id.toString(), fields }
        })
        reading.last = entries.at(-1)!.id
        try {
          reading.onEntries(entries)
        } catch (err) {
          console.error('stream reader: handler failed', rawKey.toString(), err)
        }
      }
    }
    this.#loop = null
  }

  #interrupt() {
    if (!this.#blocked || this.#readerId === null) return
    void this.#redis.client('UNBLOCK', this.#readerId, 'ERROR').catch(() => {})
  }
}
