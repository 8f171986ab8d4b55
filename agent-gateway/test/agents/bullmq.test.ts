import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeAgent, agentInfo, messagesOf, postReply, provision, say, sleep, waitFor, world, type World } from './helpers.js'

// The runtime with REDIS_URL against the real Redis on loopback: runs are BullMQ jobs and
// heartbeats are job schedulers. A key prefix per run keeps parallel test runs apart.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `cctest-${process.pid}-${Date.now().toString(36)}`

describe('agent runtime on BullMQ', () => {
  let w: World
  const fakes: FakeAgent[] = []
  const bull = () => w.server.agents.bull!

  beforeAll(async () => {
    w = await world({ redisUrl: REDIS_URL, agents: { queuePrefix: prefix } })
  })
  afterAll(async () => {
    const q = bull()
    await q.queue.obliterate({ force: true }).catch(() => {})
    await Promise.all(fakes.map((f) => f.close()))
    await w.server.close()
  })

  async function agent(handle: string, handler: ConstructorParameters<typeof FakeAgent>[0], extra: Record<string, unknown> = {}) {
    const fake = await new FakeAgent(handler).start()
    fakes.push(fake)
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: fake.url, channelIds: [w.channelId], ...extra })
    return { fake, a }
  }

  it('uses BullMQ under the configured prefix', () => {
    expect(bull().queue.opts.prefix).toBe(prefix)
  })

  it('a mention runs as a BullMQ job and the reply appears', async () => {
    const { fake, a } = await agent('bully', (p) => (p.trigger === 'mention' ? postReply(p, 'Answered through the job queue') : 'HEARTBEAT_OK'))
    await say(w.bob.client, w.channelId, '@bully are you queued?')
    const reply = await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 10_000, 'the reply')
    expect(reply.bodyMd).toBe('Answered through the job queue')
    await bull().idle()
    const completed = await bull().queue.getJobs(['completed'])
    expect(completed.some((j) => j.data.agentId === a.id && j.data.event.trigger === 'mention')).toBe(true)
    expect(fake.packets.map((p) => p.packet.trigger)).toContain('mention')
    expect((await agentInfo(w.ada.client, a.id)).runs[0]!.status).toBe('ok')
  })

  it('keeps a heartbeat job scheduler per agent, and fires it', async () => {
    const { fake, a } = await agent('beaty', () => 'HEARTBEAT_OK', { heartbeatIntervalSec: 5 })
    await waitFor(() => bull().queue.getJobScheduler(`heartbeat:${a.id}`), 5_000, 'the job scheduler')
    const scheduler = await bull().queue.getJobScheduler(`heartbeat:${a.id}`)
    expect(scheduler?.every).toBe(5000)
    // The channel has news for it, so the first heartbeat calls it.
    const beat = await waitFor(() => fake.packets.find((p) => p.packet.trigger === 'scheduled'), 12_000, 'a scheduled heartbeat')
    expect(beat.path).toBe('/heartbeat')
    // Changing the interval updates the scheduler; a peer has none.
    await w.ada.client.patch(`/api/agents/${a.id}`, { heartbeatIntervalSec: 3600 })
    await waitFor(async () => (await bull().queue.getJobScheduler(`heartbeat:${a.id}`))?.every === 3_600_000, 5_000, 'the new interval')
    const peer = await provision(w.ada.client, { name: 'p', handle: 'peerish', adapter: 'peer' })
    await sleep(200)
    expect(await bull().queue.getJobScheduler(`heartbeat:${peer.id}`)).toBeUndefined()
  }, 20_000)

  it('one run at a time per agent; a mention during a run is coalesced, not lost', async () => {
    let running = 0
    let max = 0
    const { fake } = await agent('slowbull', async () => {
      running++
      max = Math.max(max, running)
      await sleep(700)
      running--
      return 'HEARTBEAT_OK'
    }, { heartbeatIntervalSec: 3600 })
    await say(w.bob.client, w.channelId, '@slowbull one')
    await waitFor(() => fake.packets.length === 1, 10_000, 'the first run')
    for (let i = 0; i < 5; i++) await say(w.bob.client, w.channelId, `@slowbull later ${i}`)
    await waitFor(() => fake.packets.length >= 2, 10_000, 'the coalesced run')
    await sleep(300)
    await bull().idle()
    expect(max).toBe(1)
    expect(fake.packets.length).toBe(2)
  })
})
