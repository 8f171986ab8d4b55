import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { bindOutbox, memoryOutboxStore, Outbox, replayOutbox, type RefusedChange } from '../../apps/web/src/lib/sync/outbox.js'

/**
 * A Node client with the web app's outbox (apps/web/src/lib/sync/outbox.ts) and the same
 * refusal handling as SyncedDoc: set the change aside, reopen from the server under a new doc
 * (a fresh client id), replay the rest of the outbox onto it.
 */
export class OutboxClient {
  doc = new Y.Doc()
  provider!: WebsocketProvider
  readonly outbox = new Outbox(memoryOutboxStore())
  readonly refused: RefusedChange[] = []
  /** Bytes of every update message sent (the outbox's only traffic besides sync steps). */
  sentBytes = 0
  #unbind: () => void = () => {}
  #replay: { refused: Uint8Array | null; remaining: Uint8Array[] } | null = null

  constructor(readonly url: string, readonly name: string, readonly token: string) {
    this.#open()
  }

  #open() {
    const doc = this.doc
    const provider = new WebsocketProvider(this.url, this.name, doc, { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token: this.token }, connect: false })
    this.provider = provider
    this.#unbind = bindOutbox(this.outbox, provider, {
      onReject: (change) => {
        if (change) this.refused.push(change)
        setTimeout(() => this.#reopen(change), 0)
      }
    })
    provider.on('sync', (ok: boolean) => {
      if (!ok || this.provider !== provider) return
      const replay = this.#replay
      this.#replay = null
      if (replay) replayOutbox(doc, replay.refused, replay.remaining, 'replay')
    })
    provider.on('status', ({ status }: { status: string }) => {
      const ws = (provider as unknown as { ws: WebSocket | null }).ws
      if (status !== 'connected' || !ws) return
      const send = ws.send.bind(ws)
      ws.send = ((data: Uint8Array, ...rest: unknown[]) => {
        if (data[0] === 0 && data[1] === 2) this.sentBytes += data.byteLength
        return (send as (...a: unknown[]) => void)(data, ...rest)
      }) as typeof ws.send
    })
    void this.outbox.ready.then(() => provider.connect())
  }

  #reopen(change: RefusedChange | null) {
    this.#replay = { refused: change?.update ?? null, remaining: this.outbox.entries.map((e) => e.update) }
    this.outbox.clear()
    this.#unbind()
    this.provider.destroy()
    this.doc.destroy()
    this.doc = new Y.Doc()
    this.#open()
  }

  offline() {
    this.provider.disconnect()
  }

  online() {
    this.provider.connect()
  }

  destroy() {
    this.#unbind()
    this.provider.destroy()
  }
}
