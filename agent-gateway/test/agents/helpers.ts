import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket } from 'ws'
import { agentPacketSchema, type AgentPacket } from '@circlechat/protocol'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../../src/test/harness.js'
import type { StartOptions } from '../../src/server.js'

export { Client, PASSWORD, addPerson, signupAdmin, startTestServer }

export type TestServer = Awaited<ReturnType<typeof startTestServer>>

/** Fast retries and timeouts so fault tests finish in seconds. */
export const FAST_AGENTS = { attempts: 3, backoffMs: 20, webhookTimeoutMs: 800, socketTimeoutMs: 800, botTurnLimit: 3 }

export interface World {
  server: TestServer
  ada: { client: Client; member: { id: string }; workspace: { id: string } }
  bob: { client: Client; member: { id: string } }
  channelId: string
}

/** A server with agents on, admin @ada, member @bob and a channel #team with both. */
export async function world(opts: Partial<StartOptions> = {}): Promise<World> {
  const server = await startTestServer({ agentAllowPrivateUrls: true, ...opts, agents: { ...FAST_AGENTS, ...opts.agents } })
  const ada = await signupAdmin(server.url)
  const bob = await addPerson(server.url, ada.client, 'bob')
  const res = await ada.client.post('/api/conversations', { kind: 'channel', name: 'team', memberIds: [bob.member.id] })
  if (res.status !== 201) throw new Error(`channel: ${res.status} ${JSON.stringify(res.body)}`)
  return { server, ada, bob, channelId: res.body.conversation.id }
}

export interface Provisioned {
  id: string
  memberId: string
  handle: string
  botToken: string
}

export async function provision(admin: Client, body: Record<string, unknown>): Promise<Provisioned> {
  const res = await admin.post('/api/agents', body)
  if (res.status !== 201) throw new Error(`provision: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

export async function say(client: Client, conversationId: string, bodyMd: string, parentId?: string) {
  const res = await client.post(`/api/conversations/${conversationId}/messages`, { bodyMd, ...(parentId ? { parentId } : {}) })
  if (res.status !== 201) throw new Error(`post: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.message as { id: string; conversationId: string; createdAt: number }
}

export interface ListedMessage { id: string; memberId: string; bodyMd: string; parentId: string | null; card?: unknown; reactions: Array<{ emoji: string; memberId: string }> }

export async function messagesOf(client: Client, conversationId: string, parentId?: string): Promise<ListedMessage[]> {
  const res = await client.get(`/api/conversations/${conversationId}/messages?limit=200${parentId ? `&parent_id=${parentId}` : ''}`)
  if (res.status !== 200) throw new Error(`list: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.messages
}

/** Polls until `fn` returns a truthy value. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export type Handler = (packet: AgentPacket, req: IncomingMessage) => unknown | Promise<unknown>

/**
 * An in-process webhook agent on loopback: validates every packet against the contract schema,
 * records it with its path, and answers with whatever `handler` returns (a string is sent raw,
 * anything else as JSON; `{ status, body }` via `raw()` sends a chosen status).
 */
export class FakeAgent {
  readonly packets: Array<{ path: string; packet: AgentPacket; at: number }> = []
  readonly invalid: unknown[] = []
  handler: Handler
  #server: Server
  url = ''

  constructor(handler: Handler = () => 'HEARTBEAT_OK') {
    this.handler = handler
    this.#server = createServer((req, res) => void this.#serve(req, res))
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  async #serve(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      body = null
    }
    const parsed = agentPacketSchema.safeParse(body)
    if (!parsed.success) {
      this.invalid.push({ body, error: parsed.error.issues })
      res.writeHead(400).end()
      return
    }
    this.packets.push({ path: req.url ?? '', packet: parsed.data, at: Date.now() })
    let out: unknown
    try {
      out = await this.handler(parsed.data, req)
    } catch (err) {
      if (!res.writableEnded) res.destroy(err as Error)
      return
    }
    if (res.writableEnded || res.destroyed) return
    if (out instanceof Raw) {
      res.writeHead(out.status, { 'content-type': out.type }).end(out.body)
    } else if (typeof out === 'string') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(out)
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out))
    }
  }

  async close() {
    this.#server.closeAllConnections()
    await new Promise<void>((r) => this.#server.close(() => r()))
  }
}

export class Raw {
  constructor(readonly status: number, readonly body: string, readonly type: string) {}
}
export const raw = (status: number, body = '', type = 'text/plain') => new Raw(status, body, type)

export interface AgentFrame { type?: string; correlation_id?: string; packet?: AgentPacket }

/** A raw agent on /agent-socket: records the frames it gets and how it closed; the test answers. */
export async function dialAgentSocket(base: string, token: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/agent-socket?token=${token}`)
  const frames: AgentFrame[] = []
  const seen = { close: null as number | null }
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as AgentFrame))
  ws.on('close', (code) => (seen.close = code))
  ws.on('error', () => {})
  await waitFor(() => frames.find((f) => f.type === 'hello'), 5000, 'hello')
  return { ws, frames, seen, send: (frame: unknown) => ws.send(JSON.stringify(frame)) }
}
export type AgentSocket = Awaited<ReturnType<typeof dialAgentSocket>>

/** A one-action reply posting `body` into the packet's trigger conversation. */
export const postReply = (packet: AgentPacket, body: string) => ({
  actions: [{ type: 'post_message', conversation_id: packet.triggerConversationId, body_md: body }]
})

export interface RunRowShape { id: string; trigger: string; status: string; attempts: number; errors: Array<{ index: number; type: string; error: string }>; applied: Array<{ index: number; type: string; result?: any }>; packet: any; reply: string | null; trace: string[] | null; usage: any; costUsd: number | null; durationMs: number | null }

export async function runsOf(admin: Client, agentId: string): Promise<RunRowShape[]> {
  const res = await admin.get(`/api/agents/${agentId}`)
  if (res.status !== 200) throw new Error(`agent: ${res.status}`)
  return res.body.runs
}

export async function agentInfo(admin: Client, agentId: string) {
  return (await admin.get(`/api/agents/${agentId}`)).body as { agent: { status: string; lastError: string | null }; runs: RunRowShape[]; memory: any[] }
}

/** A client that speaks the agent REST API with a bot token. */
export function botClient(base: string, token: string): Client {
  const c = new Client(base, { origin: null })
  c.bearer = token
  return c
}
