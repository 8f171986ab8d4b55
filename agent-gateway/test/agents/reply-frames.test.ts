import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { AgentPacket } from '@circlechat/protocol'
import {
  FakeAgent, botClient, dialAgentSocket, messagesOf, provision, runsOf, say, sleep, waitFor, world,
  type AgentSocket, type Provisioned, type RunRowShape, type World
} from './helpers.js'

// Reply frames are read leniently: once a frame's correlation id names the pending run, the run
// finishes at once, whatever else in the frame is wrong. Trace and usage are read on their own;
// a bad usage is dropped and recorded. Real server, real SQLite, real sockets on loopback.

/** A timeout no test may come near: a run that waits for it has hung. */
const SOCKET_TIMEOUT_MS = 60_000
/** "At once": a run must be final this soon after the frame was sent. */
const AT_ONCE_MS = 5000

describe('socket reply frames', () => {
  let w: World
  let bot: Provisioned
  let s: AgentSocket
  let turn = 0

  beforeAll(async () => {
    w = await world({ agents: { socketTimeoutMs: SOCKET_TIMEOUT_MS } })
    bot = await provision(w.ada.client, { name: 'Lenient', handle: 'lenient', adapter: 'socket', channelIds: [w.channelId] })
    s = await dialAgentSocket(w.server.url, bot.botToken)
  })
  afterAll(async () => {
    s.ws.close()
    await w.server.close()
  })

  const statusOf = (runId: string) => w.server.gateway.db.$client.prepare('SELECT status FROM agent_runs WHERE id = ?').pluck().get(runId) as string | undefined

  /** Mentions the agent and waits for its packet. */
  async function wake(socket = s, handle = 'lenient') {
    const seen = socket.frames.length
    await say(w.bob.client, w.channelId, `@${handle} turn ${++turn}`)
    const frame = await waitFor(() => socket.frames.slice(seen).find((f) => f.type === 'event'), 10_000, 'the packet')
    return { correlationId: frame.correlation_id!, packet: frame.packet! }
  }

  /** Waits, at most AT_ONCE_MS, for the run to be final, and returns it as the admin sees it. */
  async function finished(runId: string, agentId = bot.id): Promise<RunRowShape> {
    await waitFor(() => statusOf(runId) !== 'running', AT_ONCE_MS, `run ${runId} to finish at once`)
    await w.server.agents.queue.idle()
    return (await runsOf(w.ada.client, agentId)).find((r) => r.id === runId)!
  }

  /** One run answered with `fields` beside the envelope. */
  async function answer(fields: (p: AgentPacket) => Record<string, unknown>) {
    const { correlationId, packet } = await wake()
    s.send({ type: 'reply', correlation_id: correlationId, ...fields(packet) })
    return { run: await finished(packet.runId), packet }
  }

  const post = (p: AgentPacket, body: string) => [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: body }]
  const posted = async (body: string) => (await messagesOf(w.bob.client, w.channelId)).some((m) => m.memberId === bot.memberId && m.bodyMd === body)

  it('usage: null is no usage: the actions apply and the usage is estimated', async () => {
    const { run } = await answer((p) => ({ actions: post(p, 'Null usage, still posted'), usage: null }))
    expect(run.status).toBe('ok')
    expect(run.errors).toEqual([])
    expect(run.usage).toEqual({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) })
    expect(await posted('Null usage, still posted')).toBe(true)
  })

  it('trace entries that are objects are stringified, bounded', async () => {
    const { run } = await answer((p) => ({ actions: post(p, 'Traced with objects'), trace: ['plain', { tool: 'search', q: 'plan' }, 7, { huge: 'x'.repeat(50_000) }] }))
    expect(run.status).toBe('ok')
    expect(run.trace!.slice(0, 3)).toEqual(['plain', '{"tool":"search","q":"plan"}', '7'])
    expect(run.trace![3]!.length).toBeLessThanOrEqual(2001)
    expect(await posted('Traced with objects')).toBe(true)
  })

  it.each([
    ['float', { inputTokens: 12.5, outputTokens: 3 }],
    ['string', { inputTokens: '12', outputTokens: '3' }],
    ['missing', { provider: 'openai', model: 'gpt' }]
  ])('a usage with %s token counts is dropped and recorded; the run still applies', async (kind, usage) => {
    const body = `Usage with ${kind} counts`
    const { run } = await answer((p) => ({ actions: post(p, body), usage }))
    expect(run.status).toBe('ok')
    expect(await posted(body)).toBe(true)
    expect(run.errors).toEqual([{ index: -1, type: 'reply', error: expect.stringMatching(/^usage dropped: .*inputTokens/) }])
    // The estimate stands in for the dropped usage, as for an agent that reports none.
    expect(Number.isInteger(run.usage.inputTokens)).toBe(true)
    expect(run.usage.provider).toBeUndefined()
    // The agent hears about it in its next packet.
    const next = await wake()
    expect(next.packet.lastRun).toMatchObject({ runId: run.id, status: 'ok', errors: [expect.objectContaining({ error: expect.stringMatching(/^usage dropped/) })] })
    s.send({ type: 'reply', correlation_id: next.correlationId, status: 'HEARTBEAT_OK' })
    await finished(next.packet.runId)
  })

  it('a reply with neither status nor actions is silent', async () => {
    const { run } = await answer(() => ({}))
    expect(run.status).toBe('silent')
    expect(run.errors).toEqual([])
  })

  it('a silent reply keeps its trace and usage, and records a bad usage', async () => {
    const good = await answer(() => ({ status: 'HEARTBEAT_OK', trace: [{ thought: 'nothing new' }], usage: { inputTokens: 100, outputTokens: 1 } }))
    expect(good.run).toMatchObject({ status: 'silent', errors: [], trace: ['{"thought":"nothing new"}'], usage: { inputTokens: 100, outputTokens: 1 } })
    const bad = await answer(() => ({ status: 'HEARTBEAT_OK', usage: { inputTokens: -3, outputTokens: 1 } }))
    expect(bad.run.status).toBe('silent')
    expect(bad.run.errors).toEqual([expect.objectContaining({ error: expect.stringMatching(/^usage dropped: inputTokens/) })])
    expect(bad.run.usage).toBeNull()
  })

  it('actions that are not an array apply nothing and say so', async () => {
    const { run } = await answer((p) => ({ actions: post(p, 'Not in an array')[0] }))
    expect(run.status).toBe('silent')
    expect(run.errors).toEqual([expect.objectContaining({ error: 'actions must be an array; none were applied' })])
    expect(await posted('Not in an array')).toBe(false)
  })

  it('a frame without "type" still answers its run', async () => {
    const { correlationId, packet } = await wake()
    s.send({ correlation_id: correlationId, actions: post(packet, 'No type, still mine') })
    expect((await finished(packet.runId)).status).toBe('ok')
    expect(await posted('No type, still mine')).toBe(true)
  })

  it('cachedInputTokens is accepted and priced at a tenth of input', async () => {
    const usage = { inputTokens: 1_000_000, cachedInputTokens: 800_000, outputTokens: 10_000 }
    const { run } = await answer(() => ({ status: 'HEARTBEAT_OK', usage }))
    expect(run.usage).toEqual(usage)
    // 200k uncached at $3/M + 800k cached at $0.30/M + 10k output at $15/M
    expect(run.costUsd).toBeCloseTo(0.6 + 0.24 + 0.15, 6)
  })

  it('POST /api/agent-api/runs/:id/usage accepts cachedInputTokens and prices it the same way', async () => {
    const { run } = await answer(() => ({}))
    const api = botClient(w.server.url, bot.botToken)
    const usage = { provider: 'anthropic', inputTokens: 2_000_000, cachedInputTokens: 1_000_000, outputTokens: 0 }
    expect((await api.post(`/api/agent-api/runs/${run.id}/usage`, usage)).body).toEqual({ ok: true })
    const after = (await runsOf(w.ada.client, bot.id)).find((r) => r.id === run.id)!
    expect(after.usage).toEqual(usage)
    expect(after.costUsd).toBeCloseTo(3 + 0.3, 6)
    for (const cachedInputTokens of [-1, 2.5, 2_000_001]) {
      expect((await api.post(`/api/agent-api/runs/${run.id}/usage`, { ...usage, cachedInputTokens })).status).toBe(400)
    }
  })

  it('garbage, unknown and foreign correlation ids are ignored; the real reply still lands at once', async () => {
    const other = await provision(w.ada.client, { name: 'Other', handle: 'other', adapter: 'socket', channelIds: [w.channelId] })
    const o = await dialAgentSocket(w.server.url, other.botToken)
    try {
      const { correlationId, packet } = await wake()
      const raw = (text: string | Buffer) => s.ws.send(text)
      raw('not json at all {')
      raw(Buffer.from([0, 1, 2, 255, 254]))
      for (const junk of [[], 42, 'reply', null, { type: 'pong' }, { type: 'reply' }, { type: 'reply', correlation_id: 12 }, { type: 'reply', correlation_id: '' },
        { type: 'event', correlation_id: correlationId }, { type: 'reply', correlation_id: 'x'.repeat(10_000) }]) s.send(junk)
      for (let i = 0; i < 2000; i++) s.send({ type: 'reply', correlation_id: `cor_unknown${i}`, actions: post(packet, `Unknown ${i}`) })
      // The right id on the wrong agent's socket is not an answer either.
      o.send({ type: 'reply', correlation_id: correlationId, actions: post(packet, 'Forged by other') })
      await sleep(200)
      expect(statusOf(packet.runId)).toBe('running')
      s.send({ type: 'reply', correlation_id: correlationId, actions: post(packet, 'The real answer after the junk') })
      expect((await finished(packet.runId)).status).toBe('ok')
      const bodies = (await messagesOf(w.bob.client, w.channelId)).map((m) => m.bodyMd)
      expect(bodies).toContain('The real answer after the junk')
      expect(bodies.filter((b) => b.startsWith('Unknown') || b.startsWith('Forged'))).toEqual([])
      // Ignoring a frame is not a protocol error: both sockets stay up.
      expect(s.ws.readyState).toBe(WebSocket.OPEN)
      expect(o.ws.readyState).toBe(WebSocket.OPEN)
    } finally {
      o.ws.close()
    }
  })

  it('a frame nested too deep to re-serialise still finishes its run, with reasons', async () => {
    const { correlationId, packet } = await wake()
    const deep = `${'['.repeat(500_000)}${']'.repeat(500_000)}`
    s.ws.send(`{"type":"reply","correlation_id":"${correlationId}","actions":[${deep}],"trace":[${deep}],"usage":${deep}}`)
    const run = await finished(packet.runId)
    expect(run.status).toBe('ok')
    expect(run.trace).toEqual(['(a trace entry nested too deep to show)'])
    expect(run.errors.map((e) => e.error)).toEqual([expect.stringMatching(/^usage dropped/), 'action must be a JSON object'])
    expect(s.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('a frame over the size cap closes that socket and fails its run at once; others carry on', async () => {
    const bulky = await provision(w.ada.client, { name: 'Bulky', handle: 'bulky', adapter: 'socket', channelIds: [w.channelId] })
    const b = await dialAgentSocket(w.server.url, bulky.botToken)
    const { correlationId, packet } = await wake(b, 'bulky')
    b.ws.send(JSON.stringify({ type: 'reply', correlation_id: correlationId, trace: ['y'.repeat(5 * 1024 * 1024)] }))
    await waitFor(() => b.seen.close, AT_ONCE_MS, 'the oversized socket to close')
    expect(b.seen.close).toBe(1009) // message too big
    const run = await finished(packet.runId, bulky.id)
    expect(run.status).toBe('error')
    expect(run.errors[0]!.error).toMatch(/disconnected|not connected/)
    // The hub still serves the other agent.
    const next = await answer((p) => ({ actions: post(p, 'Still served after the oversized frame') }))
    expect(next.run.status).toBe('ok')
  })
})

describe('webhook reply bodies', () => {
  let w: World
  let fake: FakeAgent
  let bot: Provisioned

  beforeAll(async () => {
    w = await world()
    fake = await new FakeAgent().start()
    bot = await provision(w.ada.client, { name: 'Hooky', handle: 'hooky', adapter: 'webhook', callbackUrl: fake.url, channelIds: [w.channelId] })
  })
  afterAll(async () => {
    await fake.close()
    await w.server.close()
  })

  async function runWith(handler: (p: AgentPacket) => unknown) {
    fake.handler = handler
    const seen = fake.packets.length
    await say(w.bob.client, w.channelId, `@hooky ${seen}`)
    const { packet } = await waitFor(() => fake.packets[seen], 10_000, 'the packet')
    await waitFor(async () => (await runsOf(w.ada.client, bot.id)).find((r) => r.id === packet.runId && r.status !== 'running'), AT_ONCE_MS, 'the run to finish')
    await w.server.agents.queue.idle()
    return (await runsOf(w.ada.client, bot.id)).find((r) => r.id === packet.runId)!
  }

  it('reads trace and usage leniently, as on the socket', async () => {
    const run = await runWith((p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'Webhook with odd fields' }], trace: [{ step: 1 }], usage: { inputTokens: 1.5, outputTokens: 2 } }))
    expect(run.status).toBe('ok')
    expect(run.attempts).toBe(1)
    expect(run.trace).toEqual(['{"step":1}'])
    expect(run.errors).toEqual([{ index: -1, type: 'reply', error: expect.stringMatching(/^usage dropped: inputTokens/) }])
    expect((await messagesOf(w.bob.client, w.channelId)).some((m) => m.memberId === bot.memberId && m.bodyMd === 'Webhook with odd fields')).toBe(true)
  })

  it('usage: null, and a body with neither status nor actions, are silent without errors', async () => {
    expect(await runWith(() => ({ usage: null }))).toMatchObject({ status: 'silent', errors: [], usage: null })
    expect(await runWith(() => ({ trace: ['thought about it'] }))).toMatchObject({ status: 'silent', errors: [], trace: ['thought about it'] })
  })
})
