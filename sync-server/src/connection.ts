import type { WebSocket } from 'ws'
import * as encoding from 'lib0/encoding'
import { messageType, type RejectReason } from '@circlechat/protocol'
import type { Principal } from './types.js'
import type { Room } from './room.js'
import { CatchUpBucket, TokenBucket } from './rate-limit.js'
import type { SyncConfig } from './config.js'
import { keepAlive, sendBounded } from './socket-health.js'

let nextId = 1

/** One client's WebSocket bound to one document (y-websocket opens a socket per doc). */
export class Connection {
  readonly id = nextId++
  readonly updates: TokenBucket | CatchUpBucket
  readonly messages: TokenBucket | CatchUpBucket
  readonly awareness: TokenBucket
  /** Awareness client ids this connection introduced; it may update only these. */
  readonly awarenessClients = new Set<number>()
  acked = 0

  readonly #maxBufferedBytes: number

  /** `catchUp`: the member's catch-up pools on this doc (see config.catchUp*). */
  constructor(readonly ws: WebSocket, readonly principal: Principal, readonly room: Room, config: SyncConfig, catchUp?: { updates: TokenBucket; messages: TokenBucket }) {
    const updates = new TokenBucket(config.updatesPerSecond, config.updateBurst)
    const messages = new TokenBucket(config.messagesPerSecond, config.messageBurst)
    const until = Date.now() + config.catchUpWindowMs
    this.updates = catchUp ? new CatchUpBucket(updates, catchUp.updates, until) : updates
    this.messages = catchUp ? new CatchUpBucket(messages, catchUp.messages, until) : messages
    this.awareness = new TokenBucket(config.awarenessPerSecond, config.awarenessBurst)
    this.#maxBufferedBytes = config.maxBufferedBytes
    keepAlive(ws, config)
  }

  /** Queues bytes for the client; one that stopped reading is closed (tooSlow), not buffered for. */
  send(bytes: Uint8Array) {
    sendBounded(this.ws, bytes, this.#maxBufferedBytes)
  }

  sendReject(reason: RejectReason, detail: string) {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, messageType.reject)
    encoding.writeVarString(e, reason)
    encoding.writeVarString(e, detail)
    this.send(encoding.toUint8Array(e))
  }

  sendAck() {
    this.acked++
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, messageType.ack)
    encoding.writeVarUint(e, this.acked)
    this.send(encoding.toUint8Array(e))
  }
}
