import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { docName, listMessages } from '@circlechat/model'
import { syncClient, whenSynced } from '../../src/test/sync-client.js'
import { FakeAgent, agentInfo, messagesOf, provision, raw, say, sleep, waitFor, world, type World } from './helpers.js'

// Faults: whatever an agent does wrong, its run fails (retried with backoff, at most 3 attempts),
// the agent is marked in error, and chat carries on.

describe('agent faults', () => {
  let w: World
  const fakes: FakeAgent[] = []

  beforeAll(async () => {
    w = await world()
  })
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()))
    await w.server.close()
  })

  async function failing(handle: string, handler: ConstructorParameters<typeof FakeAgent>[0]) {
    const fake = await new FakeAgent(handler).start()
    fakes.push(fake)
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: fake.url, channelIds: [w.channelId] })
    await say(w.bob.client, w.channelId, `@${handle} please answer`)
    await waitFor(async () => (await agentInfo(w.ada.client, a.id)).runs[0]?.status === 'error', 15_000, `${handle} run to fail`)
    const info = await agentInfo(w.ada.client, a.id)
    return { fake, a, info, run: info.runs[0]! }
  }

  it('a webhook that times out: 3 attempts, run and agent in error', async () => {
    const { fake, info, run } = await failing('sleepy', () => sleep(2000).then(() => 'HEARTBEAT_OK'))
    expect(run.attempts).toBe(3)
    expect(run.errors[0]!.error).toMatch(/timeout|aborted/i)
    expect(info.agent.status).toBe('error')
    expect(info.agent.lastError).toBeTruthy()
    expect(fake.packets.length).toBe(3)
    // Every attempt is the same run.
    expect(new Set(fake.packets.map((p) => p.packet.runId))).toEqual(new Set([run.id]))
  })

  it('a webhook answering 500: 3 attempts; one answering 4xx: 1 attempt', async () => {
    const five = await failing('fivehundred', () => raw(500, 'oops'))
    expect(five.run.attempts).toBe(3)
    expect(five.run.errors[0]!.error).toMatch(/HTTP 500/)
    expect(five.info.agent.status).toBe('error')
    const four = await failing('fourohfour', () => raw(404, 'no such route'))
    expect(four.run.attempts).toBe(1)
    expect(four.run.errors[0]!.error).toMatch(/HTTP 404/)
  })

  it('a webhook answering garbage: 3 attempts, nothing posted', async () => {
    const json = await failing('garbled', () => raw(200, '{"actions": [ {oops', 'application/json'))
    expect(json.run.attempts).toBe(3)
    expect(json.run.errors[0]!.error).toMatch(/malformed JSON/)
    const html = await failing('htmlish', () => raw(200, '<html><body>Bad gateway</body></html>', 'text/html'))
    expect(html.run.attempts).toBe(3)
    const bin = await failing('binary', () => raw(200, '\u0000\u0001\u0002garbage\u0003', 'application/octet-stream'))
    expect(bin.run.attempts).toBe(3)
    const posted = (await messagesOf(w.bob.client, w.channelId)).filter((m) => [json.a.memberId, html.a.memberId, bin.a.memberId].includes(m.memberId))
    expect(posted).toEqual([])
  })

  it('recovers: the next good run puts the agent back to idle', async () => {
    const { fake, a } = await failing('flaky', () => raw(503))
    fake.handler = () => 'HEARTBEAT_OK'
    await say(w.bob.client, w.channelId, '@flaky better now?')
    await waitFor(async () => (await agentInfo(w.ada.client, a.id)).agent.status === 'idle', 10_000, 'idle again')
    const info = await agentInfo(w.ada.client, a.id)
    expect(info.runs[0]!.status).toBe('silent')
    expect(info.agent.lastError).toBeNull()
  })

  it('a socket agent that disconnects mid-run: the run fails at once, retried, agent in error', async () => {
    const a = await provision(w.ada.client, { name: 'Quitter', handle: 'quitter', adapter: 'socket', channelIds: [w.channelId] })
    const ws = new WebSocket(`${w.server.url.replace('http', 'ws')}/agent-socket`, { headers: { authorization: `Bearer ${a.botToken}` } })
    const packets: unknown[] = []
    await new Promise<void>((resolve) => ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'hello') return resolve()
      packets.push(frame)
      ws.close() // mid-run
    }))
    const started = Date.now()
    await say(w.bob.client, w.channelId, '@quitter you there?')
    await waitFor(async () => (await agentInfo(w.ada.client, a.id)).runs[0]?.status === 'error', 10_000, 'the run to fail')
    const info = await agentInfo(w.ada.client, a.id)
    expect(packets.length).toBe(1)
    expect(info.runs[0]!.attempts).toBe(3)
    expect(info.runs[0]!.errors[0]!.error).toMatch(/not connected|disconnected/)
    expect(info.agent.status).toBe('error')
    // Failed at the disconnect, not after the socket timeout.
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a socket agent that never replies: the run fails on the socket timeout', async () => {
    const a = await provision(w.ada.client, { name: 'Mute', handle: 'mute', adapter: 'socket', channelIds: [w.channelId] })
    const ws = new WebSocket(`${w.server.url.replace('http', 'ws')}/agent-socket?token=${a.botToken}`)
    await new Promise<void>((resolve) => ws.on('message', (d) => JSON.parse(String(d)).type === 'hello' && resolve()))
    try {
      await say(w.bob.client, w.channelId, '@mute say something')
      await waitFor(async () => (await agentInfo(w.ada.client, a.id)).runs[0]?.status === 'error', 10_000, 'the run to fail')
      const run = (await agentInfo(w.ada.client, a.id)).runs[0]!
      expect(run.attempts).toBe(3)
      expect(run.errors[0]!.error).toMatch(/no reply within/)
    } finally {
      ws.close()
    }
  })

  it('a human message is relayed while agents hang', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const fake = await new FakeAgent(() => gate.then(() => 'HEARTBEAT_OK')).start()
    fakes.push(fake)
    for (const h of ['hang1', 'hang2', 'hang3']) await provision(w.ada.client, { name: h, handle: h, adapter: 'webhook', callbackUrl: fake.url, channelIds: [w.channelId] })
    const doc = new Y.Doc()
    const provider = syncClient(w.server.url, w.bob.client.cookie!, docName.conv(w.channelId, 0), doc)
    try {
      await whenSynced(provider)
      await say(w.ada.client, w.channelId, '@everyone anyone around?')
      await waitFor(() => fake.packets.length >= 1, 10_000, 'agents to be busy')
      const m = await say(w.ada.client, w.channelId, 'a human line while the agents hang')
      await waitFor(() => listMessages(doc).find((x) => x.id === m.id), 5_000, 'the human message to reach bob')
    } finally {
      release()
      provider.destroy()
    }
    await w.server.agents.queue.idle()
  })
})
