import { Redis } from 'ioredis'
import { StreamReader } from '@circlechat/sync-server'

/** What a conversation's new commit asks of every member's figure: advance them, or recount all. */
export type UnreadWork = 'advance' | 'all'

export interface UnreadFanout {
  publish(conversationId: string, work: UnreadWork): void
}

/**
 * Entries kept in the stream (`MAXLEN ~`, ~60 B each): a process more than this far behind
 * misses work, and the members whose me docs it owns keep a stale figure until their next
 * recount (a marker move, or the doc's next owner healing it).
 */
const MAX_LEN = 10_000

/**
 * With CLUSTER=redis: the unread work of each commit, from the process where the change feed
 * fired (the conversation doc's owner) to every process, on one Redis Stream. Each process reads
 * every entry and applies it to the members whose `me:` docs it owns (services/unread-tracker.ts);
 * a stream rather than pub/sub, so a reader that reconnects resumes where it was.
 */
export class UnreadBus implements UnreadFanout {
  readonly #redis: Redis
  readonly #readerConn: Redis
  readonly #reader: StreamReader
  readonly #key: string

  private constructor(url: string, key: string) {
    // Commands fail within 2 s while Redis is away (a start says so, a publish is logged), as the
    // limits' do; the reader's connection blocks in XREAD, so it has no command timeout.
    this.#redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2000 })
    this.#readerConn = new Redis(url)
    // An outage surfaces through the commands that fail (logged there), not once per reconnect.
    for (const conn of [this.#redis, this.#readerConn]) conn.on('error', () => {})
    this.#reader = new StreamReader(this.#redis, this.#readerConn, { maxStreams: 1, blockMs: 5_000, readCount: 500 })
    this.#key = key
  }

  /** Reads from the stream's tail now: a process owns no me doc before it started. */
  static async open(url: string, key: string, onWork: (conversationId: string, work: UnreadWork) => void): Promise<UnreadBus> {
    const bus = new UnreadBus(url, key)
    try {
      const [last] = await bus.#redis.xrevrange(key, '+', '-', 'COUNT', 1)
      bus.#reader.add(key, last?.[0] ?? '0-0', (entries) => {
        for (const { fields } of entries) {
          const conversationId = fields.get('c')?.toString()
          const work = fields.get('w')?.toString()
          if (conversationId && (work === 'advance' || work === 'all')) onWork(conversationId, work)
        }
      })
    } catch (err) {
      await bus.close()
      throw new Error(`CLUSTER=redis: the unread stream could not be read from Redis: ${err instanceof Error ? err.message : String(err)}`)
    }
    return bus
  }

  publish(conversationId: string, work: UnreadWork): void {
    void this.#redis.xadd(this.#key, 'MAXLEN', '~', MAX_LEN, '*', 'c', conversationId, 'w', work)
      .catch((err: Error) => console.error('unread: could not publish work', conversationId, err.message))
  }

  async close(): Promise<void> {
    await this.#reader.close()
    this.#redis.disconnect()
    this.#readerConn.disconnect()
  }
}
