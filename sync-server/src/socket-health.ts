import type { WebSocket } from 'ws'
import { closeCode } from '@circlechat/protocol'

/**
 * Keeps one server socket from costing unbounded memory or living on after its peer is gone.
 * Shared by the relay's sync connections and the gateway's /agent-socket hub.
 */
export interface SocketLimits {
  /** Bytes queued for a socket (ws.bufferedAmount) past which it is closed as too slow. */
  maxBufferedBytes: number
  /** How often the server pings. */
  pingIntervalMs: number
  /** Pings in a row left without a pong before the socket is terminated. */
  missedPongLimit: number
}

export const socketDefaults: SocketLimits = {
  // 8 MiB: about 40 full segments' worth of one-message updates (~190 B each) or 200 messages at
  // the 40,000-character limit; a client that far behind is not reading, and resyncs on reconnect.
  maxBufferedBytes: 8 * 1024 * 1024,
  // 30 s: under the usual 60 s idle timeout of proxies and NATs, so a quiet socket stays open.
  pingIntervalMs: 30_000,
  missedPongLimit: 2
}

export const TOO_SLOW_REASON = 'too slow; reconnect'

/**
 * Sends `data` unless the socket's send buffer is already past `maxBufferedBytes`; then the
 * socket is closed with closeCode.tooSlow and nothing more is queued for it (a CLOSING socket
 * takes no sends), so it holds at most the limit plus one message. Returns whether the data was
 * queued.
 */
export function sendBounded(ws: WebSocket, data: Uint8Array | string, maxBufferedBytes: number): boolean {
  if (ws.readyState !== ws.OPEN) return false
  if (ws.bufferedAmount > maxBufferedBytes) {
    ws.close(closeCode.tooSlow, TOO_SLOW_REASON)
    return false
  }
  ws.send(data)
  return true
}

/**
 * Pings every `pingIntervalMs`; a socket that leaves `missedPongLimit` pings in a row
 * unanswered is terminated (its peer is gone or stuck, and would otherwise hold its slot and
 * buffers until TCP gives up, which takes minutes to hours). Stops by itself on close.
 */
export function keepAlive(ws: WebSocket, limits: Pick<SocketLimits, 'pingIntervalMs' | 'missedPongLimit'>): void {
  let missed = 0
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return
    if (missed >= limits.missedPongLimit) {
      ws.terminate()
      return
    }
    missed++
    ws.ping()
  }, limits.pingIntervalMs)
  timer.unref()
  ws.on('pong', () => {
    missed = 0
  })
  ws.once('close', () => clearInterval(timer))
}

/**
 * Closes sockets with `code` (e.g. closeCode.restarting on shutdown), waits up to `graceMs` for
 * their close handshakes, then terminates any still open.
 */
export async function closeGracefully(sockets: Iterable<WebSocket>, code: number, reason: string, graceMs: number): Promise<void> {
  const all = [...sockets]
  const closed = all.map((ws) => new Promise<void>((done) => {
    if (ws.readyState === ws.CLOSED) return done()
    ws.once('close', () => done())
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
  }))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(closed), new Promise<void>((done) => { timer = setTimeout(done, graceMs) })])
  clearTimeout(timer)
  for (const ws of all) if (ws.readyState !== ws.CLOSED) ws.terminate()
}
