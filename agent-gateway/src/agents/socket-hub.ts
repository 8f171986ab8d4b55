import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { closeCode, socketReplyEnvelopeSchema, type AgentPacket } from '@circlechat/protocol'
import { newId } from '@circlechat/model'
import { MAX_REPLY_BYTES } from './webhook-client.js'
import { closeGracefully, keepAlive, sendBounded, socketDefaults, type SocketLimits } from '@circlechat/sync-server'

export interface SocketAgentIdentity {
  agentId: string
  handle: string
  memberId: string
  /** The bot token's credential id (auth/principal.ts botCredential): rotation closes the socket. */
  credentialId: string
}

interface Waiting {
  /** With the reply frame's raw text: the runner reads the rest of it, field by field. */
  resolve: (reply: string) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/**
 * Socket agents hold one WebSocket on `/agent-socket` (a new one replaces the old). A run sends
 * `{correlation_id, type, packet}` and waits for the matching reply; a disconnect fails the run
 * at once rather than waiting out the timeout.
 */
export class SocketHub {
  // Replies: the same cap as a webhook's (the largest valid reply fits).
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REPLY_BYTES })
  readonly #sockets = new Map<string, WebSocket>()
  readonly #waiting = new Map<string, Waiting & { agentId: string }>()
  readonly #identity = new WeakMap<WebSocket, SocketAgentIdentity>()

  readonly #limits: SocketLimits
  readonly #presence = new Set<(agent: SocketAgentIdentity, connected: boolean) => void>()

  constructor(private readonly authenticate: (req: IncomingMessage) => SocketAgentIdentity | null, limits: Partial<SocketLimits> = {}) {
    this.#limits = { ...socketDefaults, ...limits }
  }

  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const agent = this.authenticate(req)
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (!agent) return ws.close(closeCode.unauthorized, 'invalid bot token')
      this.#sockets.get(agent.agentId)?.close(closeCode.replaced, 'replaced by a newer connection')
      this.#sockets.set(agent.agentId, ws)
      this.#identity.set(ws, agent)
      this.#tellPresence(agent, true)
      keepAlive(ws, this.#limits)
      sendBounded(ws, JSON.stringify({ type: 'hello', agentId: agent.agentId, handle: agent.handle }), this.#limits.maxBufferedBytes)
      ws.on('message', (data) => this.#onMessage(agent.agentId, data.toString()))
      ws.on('close', () => {
        if (this.#sockets.get(agent.agentId) !== ws) return
        this.#sockets.delete(agent.agentId)
        this.#tellPresence(agent, false)
        for (const [id, w] of this.#waiting) {
          if (w.agentId !== agent.agentId) continue
          clearTimeout(w.timer)
          this.#waiting.delete(id)
          w.reject(new Error('the agent disconnected before replying'))
        }
      })
      ws.on('error', () => ws.terminate())
    })
  }

  /** Called when an agent's socket comes up (true) and when its last one goes (false). */
  onPresence(listener: (agent: SocketAgentIdentity, connected: boolean) => void): () => void {
    this.#presence.add(listener)
    return () => this.#presence.delete(listener)
  }

  /** Members of the agents connected now. */
  connectedMembers(): string[] {
    return [...this.#sockets.values()].map((ws) => this.#identity.get(ws)!.memberId)
  }

  #tellPresence(agent: SocketAgentIdentity, connected: boolean) {
    for (const listener of this.#presence) {
      try { listener(agent, connected) } catch (err) { console.error('agent presence listener failed', err) }
    }
  }

  /**
   * Closes, as unauthorized, the sockets opened with a credential (a rotated bot token) or by a
   * member (deactivated): they must dial again, and will be refused.
   */
  revoke(match: { credentialId: string } | { memberId: string }, reason: string) {
    for (const ws of this.#sockets.values()) {
      const who = this.#identity.get(ws)
      if (!who) continue
      if ('credentialId' in match ? who.credentialId === match.credentialId : who.memberId === match.memberId) ws.close(closeCode.unauthorized, reason)
    }
  }

  /** The agent connected again elsewhere (another server process): this socket is the old one. */
  replaced(agentId: string) {
    this.#sockets.get(agentId)?.close(closeCode.replaced, 'replaced by a newer connection')
  }

  isConnected(agentId: string): boolean {
    return this.#sockets.has(agentId)
  }

  /** Sends a packet and resolves with the text of the agent's reply frame. */
  dispatch(agentId: string, type: 'heartbeat' | 'event', packet: AgentPacket, timeoutMs: number): Promise<string> {
    const ws = this.#sockets.get(agentId)
    if (!ws) return Promise.reject(new Error('the agent is not connected to /agent-socket'))
    const correlationId = newId('run').replace('run_', 'cor_')
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(correlationId)
        reject(new Error(`no reply within ${Math.round(timeoutMs / 1000)} s`))
      }, timeoutMs)
      this.#waiting.set(correlationId, { agentId, resolve, reject, timer })
      // An agent that stopped reading is closed (tooSlow) rather than buffered for; the run fails.
      if (!sendBounded(ws, JSON.stringify({ correlation_id: correlationId, type, packet }), this.#limits.maxBufferedBytes)) {
        clearTimeout(timer)
        this.#waiting.delete(correlationId)
        reject(new Error('the agent is not reading its socket fast enough; it was closed and must reconnect'))
      }
    })
  }

  #onMessage(agentId: string, text: string) {
    let frame: unknown
    try {
      frame = JSON.parse(text)
    } catch {
      return
    }
    // Only the envelope decides whether this answers a run; nothing else in the frame may leave
    // the run waiting for its timeout. Pongs and anything unknown are ignored.
    const envelope = socketReplyEnvelopeSchema.safeParse(frame)
    if (!envelope.success) return
    const id = envelope.data.correlation_id
    const waiting = this.#waiting.get(id)
    // Only the socket of the agent the packet went to may answer it: another agent that learned
    // the correlation id (it is in no packet, but ids leak) must not put actions in its run.
    if (!waiting || waiting.agentId !== agentId) return
    clearTimeout(waiting.timer)
    this.#waiting.delete(id)
    waiting.resolve(text)
  }

  /**
   * Closes every agent socket with closeCode.restarting (they reconnect to the next process),
   * waits up to `graceMs` for the close handshakes, then terminates what is left.
   */
  async close(graceMs = 1000) {
    const sockets = [...this.#sockets.values()]
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer)
      w.reject(new Error('server shutting down'))
    }
    this.#waiting.clear()
    await closeGracefully(sockets, closeCode.restarting, 'server restarting', graceMs)
    this.#wss.close()
  }
}

