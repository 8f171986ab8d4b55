import type { Redis } from 'ioredis'

export interface AwarenessBusOptions {
  prefix: string
  /** This process's name: its own publishes come back on the channel and are skipped. */
  holder: string
  /** Docs subscribed at once: join refuses beyond it. */
  maxDocs: number
}

/**
 * Presence across processes: each awareness update a process accepted from its clients goes to
 * the doc's channel (`<prefix>aw:<doc>`, pub/sub) and every other process applies it for its
 * own clients. Pub/sub, not a stream: a lost presence frame is harmless, clients renew their
 * state every ~15 s and drop a peer silent for 30 s.
 */
export class AwarenessBus {
  readonly #redis: Redis
  readonly #sub: Redis
  readonly #opts: AwarenessBusOptions
  readonly #docs = new Map<string, (update: Uint8Array, from: string) => void>()
  readonly #tag: Buffer

  /** `sub` is in subscriber mode (it may be the forwarder's too); `redis` may be shared. */
  constructor(redis: Redis, sub: Redis, opts: AwarenessBusOptions) {
    this.#redis = redis
    this.#sub = sub
    this.#opts = opts
    this.#tag = Buffer.from(`${opts.holder}\0`)
    const channelPrefix = `${opts.prefix}aw:`
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const name = channel.toString()
      if (!name.startsWith(channelPrefix)) return
      const onRemote = this.#docs.get(name.slice(channelPrefix.length))
      const end = message.indexOf(0)
      if (!onRemote || end < 0 || message.subarray(0, end + 1).equals(this.#tag)) return
      try {
        onRemote(new Uint8Array(message.buffer, message.byteOffset + end + 1, message.byteLength - end - 1), message.subarray(0, end).toString())
      } catch (err) {
        console.error('awareness bus: handler failed', name, err)
      }
    })
  }

  /** Hands other processes' awareness updates of `doc` to `onRemote`, with the process that
   *  published each; false when full. */
  async join(doc: string, onRemote: (update: Uint8Array, from: string) => void): Promise<boolean> {
    if (this.#docs.has(doc)) throw new Error(`${doc} is joined already`)
    if (this.#docs.size >= this.#opts.maxDocs) return false
    this.#docs.set(doc, onRemote)
    await this.#sub.subscribe(this.#channel(doc))
    return true
  }

  async leave(doc: string): Promise<void> {
    if (!this.#docs.delete(doc)) return
    await this.#sub.unsubscribe(this.#channel(doc))
  }

  /** Best effort: a failed publish is a presence frame lost, which renewal repairs. */
  publish(doc: string, update: Uint8Array): void {
    void this.#redis.publish(this.#channel(doc), Buffer.concat([this.#tag, update])).catch((err: Error) => console.warn('awareness bus: publish failed', doc, err.message))
  }

  #channel(doc: string) {
    return `${this.#opts.prefix}aw:${doc}`
  }
}
