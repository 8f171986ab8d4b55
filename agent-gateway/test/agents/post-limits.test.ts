import { afterEach, describe, expect, it } from 'vitest'
import type { AgentPacket } from '@circlechat/protocol'
import { MAX_BODY_CHARS } from '@circlechat/model'
import { FakeAgent, agentInfo, messagesOf, provision, say, waitFor, world, type World } from './helpers.js'

// Agent posts meet a person's limits: body size, near-duplicates, message rate and a cap per
// conversation. A real webhook agent on loopback answers each mention with a chosen reply;
// every refusal is recorded on the run and fed back in the next packet's lastRun.

let w: World | null = null
let agent: FakeAgent | null = null
afterEach(async () => {
  await agent?.close()
  await w?.server.close()
  agent = null
  w = null
})

const WORDS = 'apple bravo cedar delta ember fjord gamma harbor iris jungle kettle lemon maple nectar olive pepper quartz raven sierra tulip umber violet willow xenon yarrow zephyr'.split(' ')
/** Bodies no two of which are near-duplicates (distinct words, no shared 3-word run). */
const distinct = (i: number) => `Note ${i}: ${WORDS[i % 26]} ${WORDS[(i * 7 + 3) % 26]} ${WORDS[(i * 11 + 5) % 26]} ${i * 37} checked`

async function setup(opts: Parameters<typeof world>[0] = {}) {
  w = await world(opts)
  agent = await new FakeAgent().start()
  const bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', callbackUrl: agent.url, channelIds: [w.channelId] })
  return bot
}

/** Mentions the bot, lets it answer `reply`, and returns the finished run. */
async function runWith(bot: { id: string }, reply: (p: AgentPacket) => unknown) {
  const before = agent!.packets.length
  agent!.handler = reply
  await say(w!.bob.client, w!.channelId, `@bot go ${Math.random().toString(36).slice(2)}`)
  await waitFor(() => agent!.packets.length > before, 10_000, 'the packet')
  await w!.server.agents.queue.idle()
  return { run: (await agentInfo(w!.ada.client, bot.id)).runs[0]!, packet: agent!.packets.at(-1)!.packet }
}

const posts = (p: AgentPacket, bodies: string[], conversationId = p.triggerConversationId) =>
  ({ actions: bodies.map((body_md) => ({ type: 'post_message', conversation_id: conversationId, body_md })) })

describe('agent post limits', () => {
  it('refuses 24 identical 60,000-character posts, records why, and says so in lastRun', async () => {
    const bot = await setup()
    const huge = `${'All work and no play. '.repeat(2800)}`.slice(0, 60_000)
    expect(huge.length).toBeGreaterThan(MAX_BODY_CHARS)
    const { run } = await runWith(bot, (p) => posts(p, Array.from({ length: 24 }, () => huge)))
    expect(run.applied).toEqual([])
    const sized = run.errors.filter((e) => e.index >= 0)
    expect(sized.map((e) => e.index)).toEqual(Array.from({ length: 20 }, (_, i) => i)) // 20 per reply; the rest dropped
    for (const e of sized) expect(e.error).toMatch(/60,000 characters; the limit is 40,000/)
    expect(run.errors.some((e) => e.index === -1 && /4 actions beyond the limit/.test(e.error))).toBe(true)
    expect((await messagesOf(w!.bob.client, w!.channelId)).filter((m) => m.memberId === bot.memberId)).toEqual([])

    const { packet } = await runWith(bot, () => 'HEARTBEAT_OK')
    expect(packet.lastRun?.runId).toBe(run.id)
    expect(packet.lastRun?.errors.filter((e: { error: string }) => /the limit is 40,000/.test(e.error))).toHaveLength(20)
  })

  it('refuses a reply over 4 MiB at once, saying why, without retrying', async () => {
    const bot = await setup()
    const { run } = await runWith(bot, (p) => posts(p, Array.from({ length: 20 }, () => '€'.repeat(90_000))))
    expect(run.status).toBe('error')
    expect(run.attempts).toBe(1)
    expect(run.errors[0]!.error).toMatch(/reply is over 4 MiB/)
  })

  it('posts the first of identical bodies and refuses the rest as near-duplicates', async () => {
    const bot = await setup()
    const body = Array.from({ length: 300 }, (_, i) => WORDS[(i * 7) % 26] + (i % 13)).join(' ')
    const { run } = await runWith(bot, (p) => posts(p, Array.from({ length: 5 }, () => body)))
    expect(run.applied.map((a) => a.index)).toEqual([0])
    expect(run.errors.map((e) => [e.index, e.error.includes('near_duplicate')])).toEqual([[1, true], [2, true], [3, true], [4, true]])
  })

  it('caps one agent\'s posts per conversation', async () => {
    // No refill during the test: the cap is what is checked, not the clock.
    const bot = await setup({ agents: { postLimits: { conversationBurst: 10, conversationIntervalMs: 3_600_000 } } })
    const { run } = await runWith(bot, (p) => posts(p, Array.from({ length: 15 }, (_, i) => distinct(i))))
    expect(run.applied.map((a) => a.index)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(run.errors.map((e) => e.index)).toEqual([10, 11, 12, 13, 14])
    for (const e of run.errors) expect(e.error).toMatch(/too many messages in conversation .*at most 10 at once/)
    expect((await messagesOf(w!.bob.client, w!.channelId)).filter((m) => m.memberId === bot.memberId)).toHaveLength(10)
    // Another conversation has its own cap.
    const other = (await w!.ada.client.post('/api/conversations', { kind: 'channel', name: 'other', memberIds: [bot.memberId] })).body.conversation.id
    const next = await runWith(bot, (p) => posts(p, [distinct(20)], other))
    expect(next.run.applied.map((a) => a.index)).toEqual([0])
  })

  it('limits one agent\'s message rate across conversations', async () => {
    const bot = await setup({ agents: { postLimits: { messageBurst: 5, messagesPerSecond: 0.0001 } } })
    const other = (await w!.ada.client.post('/api/conversations', { kind: 'channel', name: 'other', memberIds: [bot.memberId] })).body.conversation.id
    const { run } = await runWith(bot, (p) => ({
      actions: Array.from({ length: 8 }, (_, i) => ({ type: 'post_message', conversation_id: i % 2 ? other : p.triggerConversationId, body_md: distinct(i) }))
    }))
    expect(run.applied.map((a) => a.index)).toEqual([0, 1, 2, 3, 4])
    expect(run.errors.map((e) => e.index)).toEqual([5, 6, 7])
    for (const e of run.errors) expect(e.error).toMatch(/too many messages: at most 5 at once/)
  })
})
