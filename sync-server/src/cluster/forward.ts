import type { Redis } from 'ioredis'
import type { StreamReader } from './stream-reader.js'

/** A client update as the owner receives it from another process. */
export interface ForwardedUpdate {
  /** The forwarding process (its lease holder name) and the request, to address the reply. */
  from: string
  req: string
  /** Who sent it: the owner re-checks membership and runs the guard as for its own clients. */
  principal: string
  update: Uint8Array
}

/**
 * The owner's answer, sent after its commit (ack, with the new messages it held, which the
 * client's process counts against the connection's limit) or its guard's refusal; `resync`:
 * the owner could not decide (it lost the doc), the client re-syncs and resends.
 */
export type Reply = { kind: 'ack'; messages?: number } | { kind: 'reject'; reason: string; detail: string } | { kind: 'resync' }

export interface ForwardOptions {
  prefix: string
  holder: string
  /** Requests kept per doc stream (MAXLEN ~). */
  maxLen: number
  /** Forwarded updates awaiting their reply; beyond it, forward refuses at once. */
  maxPending: number
  /** No reply within this: the owner may be gone; the caller sends its client to re-sync. */
  replyTimeoutMs: number
}

/** The owner did not answer in time (or too many answers are awaited): outcome unknown. */
export class NoReply extends Error {}

/**
 * Non-owners forward their clients' updates on a request stream per doc (`<prefix>req:<doc>`),
 * read by whichever process owns the doc; the owner answers on the forwarding process's channel
 * (`<prefix>to:<holder>`, pub/sub). A lost answer costs no data: the client is sent to re-sync
 * and resends what was never acknowledged, and an update Yjs already has applies as nothing.
 */
export class Forwarder {
  readonly #redis: Redis
  readonly #sub: Redis
  readonly #reader: StreamReader
  readonly #opts: ForwardOptions
  readonly #pending = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  #next = 0

  /** `sub` is in subscriber mode (it may be the presence bus's too); `redis` may be shared. */
  constructor(redis: Redis, sub: Redis, reader: StreamReader, opts: ForwardOptions) {
    this.#redis = redis
    this.#sub = sub
    this.#reader = reader
    this.#opts = opts
  }

  /** Subscribes to this process's reply channel; call before forwarding. */
  async start(): Promise<void> {
    const channel = this.#replyChannel(this.#opts.holder)
    this.#sub.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.toString() !== channel) return // the connection may carry other channels (presence)
      let parsed: { req: string; reply: Reply }
      try {
        parsed = JSON.parse(message.toString())
      } catch {
        return console.error('forward: unreadable reply')
      }
      const p = this.#pending.get(parsed.req)
      if (!p) return
      this.#pending.delete(parsed.req)
      clearTimeout(p.timer)
      p.resolve(parsed.reply)
    })
    await this.#sub.subscribe(channel)
  }

  /** Sends `update` to the doc's owner; resolves with its answer, rejects with NoReply. */
  forward(doc: string, principal: string, update: Uint8Array): Promise<Reply> {
    if (this.#pending.size >= this.#opts.maxPending) return Promise.reject(new NoReply('too many forwarded updates await their owner'))
    const req = `${this.#next++}`
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(req)
        reject(new NoReply(`${doc}: no answer from its owner within ${this.#opts.replyTimeoutMs} ms`))
      }, this.#opts.replyTimeoutMs)
      this.#pending.set(req, { resolve, reject, timer })
      this.#redis.xadd(this.#requestKey(doc), 'MAXLEN', '~', this.#opts.maxLen, '*', 'from', this.#opts.holder, 'req', req, 'principal', principal, 'update', Buffer.from(update.buffer, update.byteOffset, update.byteLength)).catch((err: Error) => {
        if (!this.#pending.delete(req)) return
        clearTimeout(timer)
        reject(new NoReply(`${doc}: could not forward: ${err.message}`))
      })
    })
  }

  /** The id to serve `doc`'s requests from: note it when taking the lease. */
  async tail(doc: string): Promise<string> {
    const [last] = await this.#redis.xrevrange(this.#requestKey(doc), '+', '-', 'COUNT', 1)
    return last?.[0] ?? '0-0'
  }

  /** Owner side: hands each request after `from` to `onRequest`, in order; false when full. */
  serve(doc: string, from: string, onRequest: (request: ForwardedUpdate) => void): boolean {
    return this.#reader.add(this.#requestKey(doc), from, (entries) => {
      for (const { fields } of entries) {
        const update = fields.get('update')
        const [from, req, principal] = ['from', 'req', 'principal'].map((k) => fields.get(k)?.toString())
        if (!update || !from || !req || principal === undefined) continue
        onRequest({ from, req, principal, update: new Uint8Array(update.buffer, update.byteOffset, update.byteLength) })
      }
    })
  }

  unserve(doc: string): void {
    this.#reader.remove(this.#requestKey(doc))
  }

  /** Owner side: answers a request (after the commit, for an ack). */
  async reply(request: Pick<ForwardedUpdate, 'from' | 'req'>, reply: Reply): Promise<void> {
    await this.#redis.publish(this.#replyChannel(request.from), JSON.stringify({ req: request.req, reply }))
  }

  /** Fails every awaited answer (shutting down) and leaves the reply channel. */
  async close(): Promise<void> {
    for (const [req, p] of this.#pending) {
      clearTimeout(p.timer)
      p.reject(new NoReply('shutting down'))
      this.#pending.delete(req)
    }
    await this.#sub.unsubscribe(this.#replyChannel(this.#opts.holder)).catch(() => {})
  }

  #requestKey(doc: string) {
    return `${this.#opts.prefix}req:${doc}`
  }

  #replyChannel(holder: string) {
    return `${this.#opts.prefix}to:${holder}`
  }
}
