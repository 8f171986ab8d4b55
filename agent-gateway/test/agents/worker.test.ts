import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { FakeAgent, agentInfo, messagesOf, postReply, provision, say, sleep, waitFor, world, type World } from './helpers.js'

// AGENT_WORKERS=external: a separate `pnpm worker` process delivers runs, the server applies the
// replies (it owns the live documents). Real Redis, a real worker process, the same SQLite file.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `ccworker-${process.pid}-${Date.now().toString(36)}`
const workerFile = fileURLToPath(new URL('../../src/worker.ts', import.meta.url))
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli')

describe('external agent workers', () => {
  let w: World
  let worker: ChildProcess | null = null
  let output = ''
  const fake = new FakeAgent((p) => (p.trigger === 'mention' ? postReply(p, `Delivered by the worker process ${p.runId.slice(-6)}`) : 'HEARTBEAT_OK'))

  beforeAll(async () => {
    w = await world({ redisUrl: REDIS_URL, agentWorkers: 'external', agents: { queuePrefix: prefix } })
    await fake.start()
  })
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r))
      worker.kill('SIGTERM')
      await exited
    }
    const { Queue } = await import('bullmq')
    for (const name of ['circlechat-agent-runs', 'circlechat-agent-runs-local', 'circlechat-agent-results']) {
      const q = new Queue(name, { connection: { url: REDIS_URL }, prefix })
      await q.obliterate({ force: true }).catch(() => {})
      await q.close()
    }
    await fake.close()
    await w.server.close()
  })

  it('the server alone does not deliver; a worker process does, and the server applies the reply', async () => {
    const a = await provision(w.ada.client, { name: 'Remote', handle: 'remote', adapter: 'webhook', callbackUrl: fake.url, channelIds: [w.channelId], heartbeatIntervalSec: 3600 })
    await say(w.bob.client, w.channelId, '@remote are you out there?')
    await sleep(700)
    expect(fake.packets.filter((p) => p.packet.trigger === 'mention')).toEqual([])

    worker = spawn(process.execPath, [tsxCli, workerFile], {
      env: { ...process.env, REDIS_URL, DATA_DIR: w.server.dataDir, AGENT_ALLOW_PRIVATE_URLS: '1', AGENT_QUEUE_PREFIX: prefix, AGENT_BACKOFF_MS: '20' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    worker.stdout!.on('data', (d) => (output += d))
    worker.stderr!.on('data', (d) => (output += d))
    await waitFor(() => output.includes('agent worker ready'), 20_000, 'the worker to start')

    const reply = await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 15_000, `the reply (worker said: ${output})`)
    expect(reply.bodyMd).toMatch(/^Delivered by the worker process/)
    await w.server.agents.queue.idle()
    const run = (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.trigger === 'mention')!
    expect(run.status).toBe('ok')
    expect(run.applied).toEqual([expect.objectContaining({ type: 'post_message' })])
    expect(fake.invalid).toEqual([])
  })

  it('failures delivered by the worker are recorded by the server', async () => {
    const a = await provision(w.ada.client, { name: 'Gone', handle: 'gone', adapter: 'webhook', callbackUrl: 'http://127.0.0.1:9/', channelIds: [w.channelId], heartbeatIntervalSec: 3600 })
    await say(w.bob.client, w.channelId, '@gone hello?')
    await waitFor(async () => (await agentInfo(w.ada.client, a.id)).runs[0]?.status === 'error', 15_000, 'the failed run')
    const info = await agentInfo(w.ada.client, a.id)
    expect(info.runs[0]!.attempts).toBe(3)
    expect(info.agent.status).toBe('error')
  })

  it('socket agents still run on the server, where their socket is', async () => {
    const a = await provision(w.ada.client, { name: 'Local', handle: 'localsock', adapter: 'socket', channelIds: [w.channelId], heartbeatIntervalSec: 3600 })
    const ws = new WebSocket(`${w.server.url.replace('http', 'ws')}/agent-socket`, { headers: { authorization: `Bearer ${a.botToken}` } })
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'hello') return
      ws.send(JSON.stringify({ type: 'reply', correlation_id: frame.correlation_id, actions: postReply(frame.packet, 'Answered over the local socket queue').actions }))
    })
    await new Promise((r) => ws.once('open', r))
    await sleep(100)
    try {
      await say(w.bob.client, w.channelId, '@localsock ping')
      await waitFor(async () => (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId), 10_000, 'the socket reply')
    } finally {
      ws.close()
    }
  })
})
