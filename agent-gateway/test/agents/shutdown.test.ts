import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '@circlechat/db'
import { afterAll, describe, expect, it } from 'vitest'
import { SERVER_STOPPED } from '../../src/agents/runner.js'
import { FakeAgent, agentInfo, dialAgentSocket, provision, say, startTestServer, waitFor, world, type World } from './helpers.js'

// A server that stops (or is killed) in the middle of agent runs: each run records how it ended,
// its agent is not left "running" or blamed, and the stop does not wait out the agent's timeout.

const SLOW_AGENTS = { webhookTimeoutMs: 60_000, socketTimeoutMs: 60_000 }

describe('agent runs across a server stop', () => {
  const dirs: string[] = []
  const fakes: FakeAgent[] = []
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  async function team(dataDir: string): Promise<World> {
    return world({ dataDir, agents: SLOW_AGENTS })
  }

  const rowsIn = (dataDir: string) => {
    const db = openDb(join(dataDir, 'circlechat.db')).$client
    try {
      return {
        runs: db.prepare('SELECT agent_id AS agentId, status, errors, finished_at AS finishedAt FROM agent_runs').all() as Array<{ agentId: string; status: string; errors: string; finishedAt: number | null }>,
        agents: db.prepare('SELECT id, status, last_error AS lastError FROM agents').all() as Array<{ id: string; status: string; lastError: string | null }>
      }
    } finally {
      db.close()
    }
  }

  it('a stop cuts webhook and socket deliveries in flight and records their runs as stopped', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-stop-'))
    dirs.push(dataDir)
    const w = await team(dataDir)
    const silent = await new FakeAgent(() => new Promise(() => {})).start()
    fakes.push(silent)
    const hook = await provision(w.ada.client, { name: 'Hook', handle: 'hook', adapter: 'webhook', callbackUrl: silent.url, channelIds: [w.channelId] })
    const sock = await provision(w.ada.client, { name: 'Sock', handle: 'sock', adapter: 'socket', channelIds: [w.channelId] })
    const socket = await dialAgentSocket(w.server.url, sock.botToken) // connected, never answers
    await say(w.bob.client, w.channelId, '@hook @sock are you there?')
    await waitFor(() => silent.packets.length === 1, 10_000, 'the webhook called')
    await waitFor(() => socket.frames.some((f) => f.packet), 10_000, 'the socket agent sent its packet')
    await waitFor(async () => (await agentInfo(w.ada.client, sock.id)).agent.status === 'running', 10_000, 'socket run running')

    // Far below the 60 s the agents would be waited for: the test's own timeout fails otherwise.
    await w.server.close()

    const { runs, agents } = rowsIn(dataDir)
    for (const id of [hook.id, sock.id]) {
      const run = runs.find((r) => r.agentId === id)
      expect(run?.status).toBe('error')
      expect(JSON.parse(run!.errors)).toEqual([{ index: -1, type: 'dispatch', error: SERVER_STOPPED }])
      expect(run?.finishedAt).toBeTypeOf('number')
      expect(agents.find((a) => a.id === id)).toMatchObject({ status: 'idle', lastError: null })
    }
    // One attempt each: a stop is not retried.
    expect(silent.packets.length).toBe(1)
  }, 20_000)

  it('runs a killed server left "running" are recorded as stopped when it starts again', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-kill-'))
    dirs.push(dataDir)
    const first = await team(dataDir)
    const agent = await provision(first.ada.client, { name: 'Late', handle: 'late', adapter: 'socket', channelIds: [first.channelId] })
    await first.server.close()
    // What SIGKILL leaves behind: a run row and its agent still "running".
    const db = openDb(join(dataDir, 'circlechat.db')).$client
    db.prepare(`INSERT INTO agent_runs (id, agent_id, trigger, status, packet, started_at, created_at) VALUES ('run_cut', ?, 'mention', 'running', '{}', ?, ?)`).run(agent.id, Date.now(), Date.now())
    db.prepare(`UPDATE agents SET status = 'running' WHERE id = ?`).run(agent.id)
    db.close()

    const again = await startTestServer({ dataDir })
    try {
      const { runs, agents } = rowsIn(dataDir)
      expect(runs.find((r) => r.agentId === agent.id)).toMatchObject({ status: 'error' })
      expect(JSON.parse(runs.find((r) => r.agentId === agent.id)!.errors)[0].error).toBe(SERVER_STOPPED)
      expect(agents.find((a) => a.id === agent.id)?.status).toBe('idle')
    } finally {
      await again.close()
    }
  }, 20_000)
})
