import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, dialAgentSocket, messagesOf, postReply, provision, runsOf, say, startTestServer, waitFor, world, type AgentSocket, type TestServer, type World } from './helpers.js'

// Two servers on one database and one Redis: a socket agent connected to one of them answers
// mentions posted through the other, once each. A run is handed to the process holding the socket.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('a socket agent behind several server processes', () => {
  const prefix = `cc-test-${randomUUID()}`
  let dataDir: string
  let a: World
  let b: TestServer
  let socket: AgentSocket

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cc-two-'))
    const shared = { dataDir, redisUrl: REDIS_URL, redisPrefix: `${prefix}:`, agents: { queuePrefix: prefix } }
    // The first process leaves the shared queue to workers (there are none): only the second
    // takes runs from it, so each mention's run starts where the socket is not.
    a = await world({ ...shared, agentWorkers: 'external' })
    b = await startTestServer(shared)
  })
  afterAll(async () => {
    socket?.ws.close()
    await b?.close()
    await a?.server.close()
    const { Queue } = await import('bullmq')
    const { Redis } = await import('ioredis')
    const redis = new Redis(REDIS_URL)
    const names = new Set((await redis.keys(`${prefix}:*`)).map((k) => k.slice(prefix.length + 1).split(':')[0]!))
    for (const name of names) {
      const q = new Queue(name, { connection: { url: REDIS_URL }, prefix })
      await q.obliterate({ force: true }).catch(() => {})
      await q.close()
    }
    await redis.quit()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('mentions posted on the other process reach the agent once each, and its replies land', async () => {
    const agent = await provision(a.ada.client, { name: 'Sock', handle: 'sock', adapter: 'socket', channelIds: [a.channelId] })
    socket = await dialAgentSocket(a.server.url, agent.botToken)
    socket.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { correlation_id?: string; packet?: { trigger: string; triggerMessageId?: string; inbox: Array<{ messages: Array<{ id: string }> }> } }
      if (frame.packet?.trigger !== 'mention') return
      const asking = frame.packet.inbox[0]?.messages.find((m) => m.id === frame.packet!.triggerMessageId)
      const asked = /question (\d+)/.exec(JSON.stringify(asking))?.[1]
      socket.send({ type: 'reply', correlation_id: frame.correlation_id, ...postReply(frame.packet as never, `answer ${asked} from the first process`) })
    })
    // Bob, signed in, writes through the second process.
    const bobOnB = new Client(b.url)
    bobOnB.cookie = a.bob.client.cookie
    for (let i = 1; i <= 2; i++) {
      await say(bobOnB, a.channelId, `@sock question ${i}: which process are you on?`)
      await waitFor(async () => (await messagesOf(a.ada.client, a.channelId)).some((m) => m.memberId === agent.memberId && m.bodyMd === `answer ${i} from the first process`), 15_000, `answer ${i}`)
    }
    expect(socket.frames.filter((f) => f.packet?.trigger === 'mention')).toHaveLength(2)
    const runs = (await runsOf(a.ada.client, agent.id)).filter((r) => r.trigger === 'mention')
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok'])
  }, 30_000)
})
