import WebSocket from 'ws'
import { closeCode } from '@circlechat/protocol'
import type { AgentPacket, SocketHello } from '@circlechat/protocol'
import { replyBody } from './handler.js'
import type { PacketHandler } from './handler.js'

export interface SocketAgentOptions {
  /** Server base (`http://host:port`) or the full `ws(s)://host/agent-socket` URL. */
  url: string
  token: string
  onPacket: PacketHandler
  onHello?: (hello: SocketHello) => void
  onError?: (err: Error) => void
  /** Reconnect delays: doubles from min to max, with jitter so a restart does not stampede. */
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface SocketAgent {
  readonly connected: boolean
  /** Stops reconnecting and closes the socket. */
  close(): void
}

/** `http(s)://host[/]` → `ws(s)://host/agent-socket`; a URL with a path is used as given. */
export function toSocketUrl(url: string): string {
  const u = new URL(url)
  if (u.protocol === 'http:') u.protocol = 'ws:'
  if (u.protocol === 'https:') u.protocol = 'wss:'
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/agent-socket'
  return u.toString()
}

export function connectSocketAgent(options: SocketAgentOptions): SocketAgent {
  const min = options.minBackoffMs ?? 500
  const max = options.maxBackoffMs ?? 30_000
  let attempt = 0
  let closed = false
  let ws: WebSocket | null = null
  let timer: NodeJS.Timeout | null = null

  const open = () => {
    ws = new WebSocket(toSocketUrl(options.url), { headers: { authorization: `Bearer ${options.token}` } })
    const socket = ws
    socket.on('message', (data) => void onMessage(socket, data.toString()))
    socket.on('error', (err) => options.onError?.(err))
    socket.on('close', (code) => {
      if (closed) return
      // A bad token will not get better by retrying, and reconnecting after being replaced
      // would knock out the newer socket: two processes would evict each other forever.
      if (code === closeCode.unauthorized || code === closeCode.replaced) {
        closed = true
        const why = code === closeCode.unauthorized ? 'refused the token (4401); check CC_TOKEN' : 'was replaced by a newer connection (4000)'
        options.onError?.(new Error(`agent socket ${why}`))
        return
      }
      const delay = Math.min(max, min * 2 ** attempt++) * (0.75 + Math.random() * 0.5)
      timer = setTimeout(open, delay)
    })
  }

  async function onMessage(socket: WebSocket, text: string): Promise<void> {
    let msg: { type?: string; correlation_id?: string; packet?: AgentPacket; agentId?: string; handle?: string }
    try {
      msg = JSON.parse(text)
    } catch {
      return options.onError?.(new Error('agent socket sent a frame that is not JSON'))
    }
    if (msg.type === 'hello') {
      attempt = 0
      return options.onHello?.(msg as SocketHello)
    }
    if ((msg.type !== 'heartbeat' && msg.type !== 'event') || !msg.correlation_id || !msg.packet) return
    const correlation_id = msg.correlation_id
    let body: object
    try {
      body = replyBody(await options.onPacket(msg.packet, { kind: msg.type, runId: msg.packet.runId, agentId: msg.packet.agent?.id }))
    } catch (err) {
      // Answer anyway: silence would hold the run open for 210 s; the trace records why.
      options.onError?.(err as Error)
      body = { actions: [], trace: [`agent error: ${(err as Error).message}`] }
    }
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'reply', correlation_id, ...body }))
  }

  open()
  return {
    get connected() {
      return ws?.readyState === WebSocket.OPEN
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      ws?.close(1000)
    }
  }
}
