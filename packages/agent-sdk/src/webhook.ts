import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { AgentPacket } from '@circlechat/protocol'
import { replyBody } from './handler.js'
import type { PacketHandler } from './handler.js'
import { verifySignature } from './signature.js'

export interface WebhookOptions {
  /** The bot token. When set, every request must carry a valid `x-cc-signature`. */
  token?: string
  /** Packets are a few hundred KB at most (≤20 messages per conversation); 5 MB stops abuse. */
  maxBodyBytes?: number
  onError?: (err: unknown) => void
}

const routes: Record<string, 'heartbeat' | 'event'> = { '/heartbeat': 'heartbeat', '/event': 'event' }

/** A node:http listener for `POST /heartbeat` and `POST /event`; mount it with `http.createServer(listener)`. */
export function createWebhookHandler(handler: PacketHandler, options: WebhookOptions = {}): RequestListener {
  const limit = options.maxBodyBytes ?? 5 * 1024 * 1024
  return (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      options.onError?.(err)
      if (!res.headersSent) send(res, 500, { error: 'agent_error', message: err instanceof Error ? err.message : String(err) })
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const kind = routes[new URL(req.url ?? '/', 'http://agent').pathname]
    if (!kind) return send(res, 404, { error: 'not_found', message: 'POST /heartbeat or /event' })
    if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed', message: 'use POST' })
    const raw = await readBody(req, limit)
    if (raw === null) return send(res, 413, { error: 'too_large', message: `body over ${limit} bytes` })
    if (options.token && !verifySignature(raw, header(req, 'x-cc-signature'), options.token)) {
      return send(res, 401, { error: 'bad_signature', message: 'x-cc-signature does not match this agent\'s token' })
    }
    let packet: AgentPacket
    try {
      packet = JSON.parse(raw.toString('utf8')) as AgentPacket
    } catch {
      return send(res, 400, { error: 'invalid_json', message: 'the body must be the JSON packet' })
    }
    const reply = await handler(packet, { kind, runId: header(req, 'x-cc-run'), agentId: header(req, 'x-cc-agent') })
    send(res, 200, replyBody(reply))
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) return null
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
