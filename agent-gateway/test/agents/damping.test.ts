import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentPacket } from '@circlechat/protocol'
import { FakeAgent, agentInfo, messagesOf, provision, say, sleep, waitFor, world, type Provisioned, type World } from './helpers.js'

// Triggers and damping: who wakes for what, how often, and what stops loops.

const triggerMessage = (p: AgentPacket) => p.inbox.flatMap((c) => c.messages).find((m) => m.id === p.triggerMessageId)

describe('agent triggers and damping', () => {
  let w: World
  const fakes: FakeAgent[] = []

  beforeAll(async () => {
    w = await world({ agents: { botTurnLimit: 3, ambientQuietMs: 300, ambientCooldownMs: 3_600_000 } })
  })
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()))
    await w.server.close()
  })

  async function agentIn(handle: string, channelIds: string[], handler?: ConstructorParameters<typeof FakeAgent>[0], extra: Record<string, unknown> = {}) {
    const fake = await new FakeAgent(handler).start()
    fakes.push(fake)
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: fake.url, channelIds, heartbeatIntervalSec: 86_400, ...extra })
    return { fake, a }
  }
  const channel = async (name: string) => (await w.ada.client.post('/api/conversations', { kind: 'channel', name, memberIds: [w.bob.member.id] })).body.conversation.id as string

  it('wakes for mention, channel_post, thread_reply and test; never for its own post', async () => {
    const c = await channel('triggers')
    const { fake, a } = await agentIn('trig', [c], (p) =>
      p.trigger === 'mention' ? { actions: [{ type: 'post_message', conversation_id: c, body_md: 'My own words should not wake me', reply_to: p.triggerMessageId }] } : 'HEARTBEAT_OK')
    const root = await say(w.bob.client, c, '@trig have a look at this')
    await waitFor(async () => (await messagesOf(w.bob.client, c, root.id)).length === 1, 10_000, 'the agent answered in the thread')
    await w.server.agents.queue.idle()
    expect(fake.packets.map((p) => p.packet.trigger)).toEqual(['mention'])
    // A human reply in the thread the agent posted in wakes it as thread_reply.
    await say(w.bob.client, c, 'a follow-up in the thread', root.id)
    await waitFor(() => fake.packets.length === 2, 10_000, 'thread_reply')
    expect(fake.packets[1]!.packet.trigger).toBe('thread_reply')
    expect(fake.packets[1]!.packet.thread?.rootMessageId).toBe(root.id)
    // A human top-level post with no mention: channel_post.
    await say(w.bob.client, c, 'just chatting here')
    await waitFor(() => fake.packets.length === 3, 10_000, 'channel_post')
    expect(fake.packets[2]!.packet.trigger).toBe('channel_post')
    // The Test button.
    expect((await w.ada.client.post(`/api/agents/${a.id}/test`)).status).toBe(202)
    await waitFor(() => fake.packets.length === 4, 10_000, 'test')
    expect(fake.packets[3]!.packet.trigger).toBe('test')
    await w.server.agents.queue.idle()
    await sleep(200)
    expect(fake.packets.length).toBe(4)
    for (const p of fake.packets) expect(p.packet.agent.memberId).toBe(a.memberId)
  })

  it('@everyone and @channel wake every agent of the channel', async () => {
    const c = await channel('broadcast')
    const agents = await Promise.all(['e1', 'e2', 'e3'].map((h) => agentIn(h, [c])))
    const outsider = await agentIn('e4', [w.channelId])
    await say(w.bob.client, c, '@everyone standup in five')
    await waitFor(() => agents.every(({ fake }) => fake.packets.length === 1), 10_000, 'all three woke')
    for (const { fake } of agents) expect(fake.packets[0]!.packet.trigger).toBe('mention')
    await say(w.bob.client, c, '@channel standup is now')
    await waitFor(() => agents.every(({ fake }) => fake.packets.length === 2), 10_000, 'all three woke again')
    await w.server.agents.queue.idle()
    expect(outsider.fake.packets).toEqual([])
  })

  it('cuts a bot-to-bot loop after botTurnLimit agent posts and resumes when a human speaks', async () => {
    const c = await channel('loop')
    let n = 0
    // Each agent answers any mention by mentioning the other one: an endless ping-pong.
    const echo = (other: string) => (p: AgentPacket) => ({
      actions: [{ type: 'post_message', conversation_id: c, body_md: `@${other} volley number ${++n} ${Math.random().toString(36).slice(2)}` }]
    })
    const ping = await agentIn('ping', [c], echo('pong'))
    const pong = await agentIn('pong', [c], echo('ping'))
    await say(w.bob.client, c, '@ping serve')
    await waitFor(async () => (await messagesOf(w.bob.client, c)).length >= 5, 10_000, 'the volley')
    await w.server.agents.queue.idle()
    await sleep(300)
    await w.server.agents.queue.idle()
    // Human → ping (1 post) → pong (2) → ping (3) → pong (4): the 4th agent post wakes no one.
    const botPosts = () => messagesOf(w.bob.client, c).then((ms) => ms.filter((m) => m.memberId !== w.bob.member.id).length)
    expect(await botPosts()).toBe(4)
    expect(ping.fake.packets.length + pong.fake.packets.length).toBe(4)
    expect(pong.fake.packets.every((p) => p.packet.trigger === 'mention')).toBe(true)
    // A human message resets the count.
    await say(w.bob.client, c, '@pong your serve')
    await waitFor(async () => (await botPosts()) === 8, 10_000, 'the volley to resume and stop again')
    await w.server.agents.queue.idle()
    await sleep(300)
    expect(await botPosts()).toBe(8)
  })

  it('runs one at a time per agent and coalesces triggers that arrive meanwhile', async () => {
    const c = await channel('busy')
    let running = 0
    let maxRunning = 0
    const { fake, a } = await agentIn('slowpoke', [c], async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await sleep(600)
      running--
      return 'HEARTBEAT_OK'
    })
    await say(w.bob.client, c, '@slowpoke first')
    await waitFor(() => fake.packets.length === 1, 10_000, 'the first run')
    for (let i = 0; i < 8; i++) await say(w.bob.client, c, `@slowpoke more ${i}`)
    await waitFor(() => fake.packets.length >= 2, 10_000, 'the coalesced run')
    await w.server.agents.queue.idle()
    expect(maxRunning).toBe(1)
    // 9 triggers, 2 runs: the second carries the newest mention.
    expect(fake.packets.length).toBe(2)
    expect(triggerMessage(fake.packets[1]!.packet)?.bodyMd).toBe('@slowpoke more 7')
    expect((await agentInfo(w.ada.client, a.id)).runs.length).toBe(2)
  })

  it('fires scheduled heartbeats on a real timer to /heartbeat, with ambient for quiet channels', async () => {
    const c = await channel('quiet')
    await say(w.bob.client, c, 'something happened before the agent joined')
    const { fake, a } = await agentIn('ticker', [c], undefined, { heartbeatIntervalSec: 5, scopes: ['ambient'] })
    const scheduled = await waitFor(() => fake.packets.find((p) => p.packet.trigger === 'scheduled'), 8_000, 'a scheduled heartbeat')
    expect(scheduled.path).toBe('/heartbeat')
    expect(scheduled.packet.inbox.map((e) => e.conversationId)).toContain(c)
    const ambient = await waitFor(() => fake.packets.find((p) => p.packet.trigger === 'ambient'), 3_000, 'an ambient wake')
    expect(ambient.path).toBe('/heartbeat')
    expect(ambient.packet.triggerConversationId).toBe(c)
    await w.server.agents.queue.idle()
    // Nothing new since: the next heartbeat does not call the agent at all.
    const seen = fake.packets.length
    w.server.agents.queue.enqueue(a.id, { trigger: 'scheduled', conversationId: null })
    await w.server.agents.queue.idle()
    expect(fake.packets.length).toBe(seen)
    // A message the agent was woken for is not news to the next heartbeat either.
    await say(w.bob.client, c, 'a post the agent gets as channel_post')
    await waitFor(() => fake.packets.at(-1)!.packet.trigger === 'channel_post', 5_000, 'channel_post')
    await w.server.agents.queue.idle()
    const seen2 = fake.packets.length
    w.server.agents.queue.enqueue(a.id, { trigger: 'scheduled', conversationId: null })
    await w.server.agents.queue.idle()
    expect(fake.packets.length).toBe(seen2)
    // Something it has not seen (a thread reply it was not woken for): the heartbeat carries it.
    await say(w.bob.client, c, 'news for the heartbeat', scheduled.packet.inbox[0]!.messages[0]!.id)
    await w.server.agents.queue.idle()
    const before = fake.packets.length
    w.server.agents.queue.enqueue(a.id, { trigger: 'scheduled', conversationId: null })
    await waitFor(() => fake.packets.length > before, 5_000, 'a heartbeat with news')
    const last = fake.packets.at(-1)!.packet
    expect(last.trigger).toBe('scheduled')
    expect(last.inbox.map((e) => e.conversationId)).toEqual([c])
  }, 20_000)

  it('every packet validated against the contract schema', () => {
    for (const f of fakes) expect(f.invalid).toEqual([])
  })
})
