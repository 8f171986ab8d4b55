import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docName, listMessages } from '@circlechat/model'
import { agentPacketSchema } from '@circlechat/protocol'
import { startAgent, type RunningAgent } from '../../../examples/lib/child-agent.js'
import { syncClient, whenSynced } from '../../src/test/sync-client.js'
import { agentInfo, botClient, messagesOf, provision, say, sleep, waitFor, world, type World } from './helpers.js'

// The three runtimes end to end with the example agents as real processes on loopback: a human
// mentions the bot over REST and the bot's reply lands in the conversation document.

describe('agent runtimes', () => {
  let w: World
  const children: RunningAgent[] = []

  beforeAll(async () => {
    w = await world()
  })
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()))
    await w.server.close()
  })

  /** Provisions a webhook agent, starts `file` with its token, then points the callback at it. */
  async function webhookAgent(file: string, handle: string) {
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: 'http://127.0.0.1:9/', channelIds: [w.channelId] })
    const child = await startAgent(file, { CC_TOKEN: a.botToken, CC_URL: w.server.url })
    children.push(child)
    const patched = await w.ada.client.patch(`/api/agents/${a.id}`, { callbackUrl: child.url })
    expect(patched.status).toBe(200)
    return a
  }

  it('provisioning returns the token once and the agent is a member like anyone', async () => {
    const a = await provision(w.ada.client, { name: 'Helper', handle: 'helper', adapter: 'socket', channelIds: [w.channelId] })
    expect(a.botToken).toMatch(/^cc_[0-9a-z]{32}$/)
    expect(a.memberId).toMatch(/^m/)
    // Stored hashed: neither the token nor its hash is ever shown again.
    const page = await w.ada.client.get(`/api/agents/${a.id}`)
    expect(JSON.stringify(page.body)).not.toContain(a.botToken)
    const row = w.server.gateway.db.$client.prepare('SELECT token_hash FROM agents WHERE id = ?').pluck().get(a.id) as string
    expect(row).not.toContain(a.botToken)
    // A member: listed, in the channel, mentionable and DM-able.
    const members = await w.bob.client.get('/api/members')
    expect(JSON.stringify(members.body)).toContain(a.memberId)
    const inChannel = w.server.gateway.db.$client.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(w.channelId, a.memberId)
    expect(inChannel).toBe(1)
    const m = await say(w.bob.client, w.channelId, '@helper are you there?')
    const listed = (await messagesOf(w.bob.client, w.channelId)).find((x) => x.id === m.id) as unknown as { mentions: string[] }
    expect(listed.mentions).toContain(a.memberId)
    const dm = await w.bob.client.post('/api/conversations', { kind: 'dm', memberIds: [a.memberId] })
    expect(dm.status).toBeLessThan(300)
    // Non-admins cannot provision.
    expect((await w.bob.client.post('/api/agents', { name: 'x', handle: 'xx', adapter: 'socket' })).status).toBe(403)
  })

  it('webhook: the TypeScript example answers a mention', async () => {
    const a = await webhookAgent('webhook-agent.ts', 'hooky')
    await say(w.bob.client, w.channelId, '@hooky hi from typescript')
    const reply = await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 15_000, 'webhook reply')
    expect(reply.bodyMd).toContain('hi')
    // The run is recorded after its actions applied: the reply can show a moment before.
    const run = await waitFor(async () => (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.trigger === 'mention' && r.status !== 'running'), 10_000, 'the run recorded')
    expect(run.status).toBe('ok')
    expect(agentPacketSchema.safeParse(run.packet).success).toBe(true)
    expect(run.applied).toEqual([expect.objectContaining({ type: 'post_message' })])
    expect(run.durationMs).toBeGreaterThanOrEqual(0)
    expect(run.usage.inputTokens).toBeGreaterThan(0)
    expect(run.costUsd).toBeGreaterThan(0)
  })

  it('webhook: the Python example answers a mention, seen live by a human sync client', async () => {
    const a = await webhookAgent('python_agent.py', 'snake')
    const live = w.server.gateway.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(w.channelId) as number
    const doc = new Y.Doc()
    const provider = syncClient(w.server.url, w.bob.client.cookie!, docName.conv(w.channelId, live), doc)
    try {
      await whenSynced(provider)
      await say(w.bob.client, w.channelId, '@snake hi from python land')
      const reply = await waitFor(() => listMessages(doc).find((m) => m.author === a.memberId), 15_000, 'python reply in the doc')
      expect(reply.body).toContain('hi from python land')
    } finally {
      provider.destroy()
    }
  })

  it('socket: the example on /agent-socket answers a mention and a DM', async () => {
    const a = await provision(w.ada.client, { name: 'Sock', handle: 'sock', adapter: 'socket', channelIds: [w.channelId] })
    children.push(await startAgent('socket-agent.ts', { CC_TOKEN: a.botToken, CC_URL: w.server.url }, /connected as @(\S+)/))
    await say(w.bob.client, w.channelId, '@sock hello over the socket')
    const reply = await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 15_000, 'socket reply')
    expect(reply.bodyMd).toContain('hello')
    const dm = (await w.bob.client.post('/api/conversations', { kind: 'dm', memberIds: [a.memberId] })).body.conversation.id as string
    await say(w.bob.client, dm, 'psst')
    await waitFor(async () => (await messagesOf(w.bob.client, dm)).find((m) => m.memberId === a.memberId && m.bodyMd.includes('psst')), 15_000, 'socket DM reply')
    const info = await agentInfo(w.ada.client, a.id)
    expect(info.runs.map((r) => r.trigger).sort()).toEqual(['dm', 'mention'])
    expect(agentPacketSchema.safeParse(info.runs.find((r) => r.trigger === 'mention')!.packet).success).toBe(true)
    // Ada (admin) is not in bob's DM with the agent: that run's packet is withheld from her.
    expect(info.runs.find((r) => r.trigger === 'dm')!.packet).toBeNull()
  })

  it('socket: a bad token is closed with 4401', async () => {
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(`${w.server.url.replace('http', 'ws')}/agent-socket?token=cc_${'0'.repeat(32)}`)
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)))
    expect(code).toBe(4401)
  })

  it('peer: the example syncs with its bot token and replies as itself', async () => {
    const a = await provision(w.ada.client, { name: 'Peer', handle: 'peery', adapter: 'peer', channelIds: [w.channelId] })
    const child = await startAgent('peer-agent.ts', { CC_TOKEN: a.botToken, CC_URL: w.server.url }, /watching (\d+) conversations/)
    children.push(child)
    await waitFor(() => child.output().includes(`synced ${w.channelId}`), 10_000, 'the peer to sync the channel')
    await say(w.bob.client, w.channelId, '@peery hello peer to peer')
    const reply = await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 15_000, `peer reply; peer said: ${child.output()}`)
    expect(reply.bodyMd).toContain('hello')
    // No run is made for a peer: it is not called, it watches.
    expect((await agentInfo(w.ada.client, a.id)).runs).toEqual([])
  })

  it('peer: the guard refuses a message authored as someone else', async () => {
    const a = await provision(w.ada.client, { name: 'Liar', handle: 'liar', adapter: 'peer', channelIds: [w.channelId] })
    const { default: WebSocket } = await import('ws')
    const { WebsocketProvider } = await import('y-websocket')
    const { appendMessage } = await import('@circlechat/model')
    const live = w.server.gateway.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(w.channelId) as number
    class BotSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { authorization: `Bearer ${a.botToken}` } })
      }
    }
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${w.server.url.replace('http', 'ws')}/sync`, docName.conv(w.channelId, live), doc, { WebSocketPolyfill: BotSocket as never, disableBc: true })
    provider.messageHandlers[100] = () => {}
    provider.messageHandlers[101] = () => {}
    try {
      await whenSynced(provider)
      appendMessage(doc, { author: a.memberId, body: 'I am liar, really' })
      await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.bodyMd === 'I am liar, really'), 10_000, 'own message')
      let refused = false
      provider.messageHandlers[100] = () => (refused = true)
      appendMessage(doc, { author: w.bob.member.id, body: 'I am bob, honest' })
      await waitFor(() => refused, 10_000, 'the guard to refuse the forged author')
      expect((await messagesOf(w.bob.client, w.channelId)).find((m) => m.bodyMd === 'I am bob, honest')).toBeUndefined()
    } finally {
      provider.destroy()
    }
    // ?token= works as well as the header (for peers that cannot set headers); a wrong one is refused.
    for (const [token, expected] of [[a.botToken, true], [`cc_${'1'.repeat(32)}`, false]] as const) {
      const d = new Y.Doc()
      const p = new WebsocketProvider(`${w.server.url.replace('http', 'ws')}/sync`, docName.conv(w.channelId, live), d, { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token } })
      p.messageHandlers[100] = () => {}
      p.messageHandlers[101] = () => {}
      try {
        if (expected) {
          await whenSynced(p)
          expect(listMessages(d).some((m) => m.body === 'I am liar, really')).toBe(true)
        } else {
          await sleep(500)
          expect(p.synced).toBe(false)
        }
      } finally {
        p.destroy()
      }
    }
    // The bot token also works on the agent REST API.
    expect((await botClient(w.server.url, a.botToken).get('/api/agent-api/me')).body.memberId).toBe(a.memberId)
  })
})
