import { afterEach, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { closeCode } from '@circlechat/protocol'
import { docName } from '@circlechat/model'
import { Client, signupAdmin } from '../src/test/harness.js'
import { freePort, startMain as startMainProcess } from '../src/test/main-process.js'

// The real server (src/main.ts) in a child process, stopped with a real signal mid-stream:
// SIGTERM drains (in-flight posts answer, sockets close with closeCode.restarting), SIGKILL cuts
// everything. Either way a client that retries every post it got no answer for, with the same
// Idempotency-Key, ends with each message stored exactly once.

let child: ChildProcess | null = null
const dirs: string[] = []
afterEach(async () => {
  child?.kill('SIGKILL')
  child = null
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** The real server in a child process, killed after each test. */
async function startMain(dataDir: string, port: number) {
  const s = await startMainProcess(dataDir, port)
  child = s.proc
  return s
}

type Outcome = { key: string; body: string; status: number | 'cut'; id?: string }

/** `workers` clients posting in a loop; each stops at its first post without a 2xx answer. */
function postStream(base: string, cookie: string, conversationId: string, workers: number) {
  const outcomes: Outcome[] = []
  let stop = false
  const run = async (w: number) => {
    const c = new Client(base)
    c.cookie = cookie
    for (let i = 0; !stop; i++) {
      const key = `k-${w}-${i}`
      const body = `stream ${w}-${i}`
      const o: Outcome = { key, body, status: 'cut' }
      outcomes.push(o)
      try {
        const res = await c.request('POST', `/api/conversations/${conversationId}/messages`, { bodyMd: body }, { 'idempotency-key': key })
        o.status = res.status
        o.id = res.body?.message?.id
      } catch {
        o.status = 'cut'
      }
      if (o.status !== 201 && o.status !== 200) return
    }
  }
  const done = Promise.all(Array.from({ length: workers }, (_, w) => run(w)))
  return { outcomes, done, halt: () => { stop = true } }
}

async function allBodies(client: Client, conversationId: string): Promise<Array<{ id: string; bodyMd: string }>> {
  const out: Array<{ id: string; bodyMd: string }> = []
  let cursor: string | null = null
  do {
    const res: { status: number; body: any } = await client.get(`/api/conversations/${conversationId}/messages?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    expect(res.status).toBe(200)
    out.unshift(...res.body.messages)
    cursor = res.body.nextCursor
  } while (cursor)
  return out
}

const closeCodeOf = (ws: WebSocket) => new Promise<number>((r) => ws.once('close', (code) => r(code)))

describe.each(['SIGTERM', 'SIGKILL'] as const)('stopped with %s under a stream of REST posts', (signal) => {
  it('after a restart and a retry of every unanswered post, each message is stored exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cc-drain-'))
    dirs.push(dataDir)
    const port = await freePort()
    const first = await startMain(dataDir, port)
    const ada = await signupAdmin(first.url)
    const general = (await ada.client.get('/api/conversations')).body.conversations[0].id as string

    // A sync socket and an agent socket, to see how they are closed.
    const agent = (await ada.client.post('/api/agents', { name: 'Sock', handle: 'sock', adapter: 'socket', channelIds: [general] })).body
    const sync = new WebSocket(`${first.url.replace('http', 'ws')}/sync/${docName.me(ada.member.id)}`, { headers: { cookie: `cc_session=${ada.client.cookie}`, origin: first.url } })
    const agentWs = new WebSocket(`${first.url.replace('http', 'ws')}/agent-socket?token=${agent.botToken}`)
    await Promise.all([sync, agentWs].map((ws) => new Promise((r, j) => { ws.once('open', r); ws.once('error', j) })))
    const syncClosed = closeCodeOf(sync)
    const agentClosed = closeCodeOf(agentWs)

    const stream = postStream(first.url, ada.client.cookie!, general, 6)
    // Let the stream get going, so the signal lands among posts in flight.
    while (stream.outcomes.filter((o) => o.status === 201).length < 60) await new Promise((r) => setTimeout(r, 5))
    first.proc.kill(signal)
    const code = await first.exited
    stream.halt()
    await stream.done
    if (signal === 'SIGTERM') {
      expect(code).toBe(0) // drained and exited on its own, not forced
      expect(await syncClosed).toBe(closeCode.restarting)
      expect(await agentClosed).toBe(closeCode.restarting)
    }

    const answered = stream.outcomes.filter((o) => o.status === 201 || o.status === 200)
    const unanswered = stream.outcomes.filter((o) => o.status !== 201 && o.status !== 200)
    expect(unanswered.length).toBeGreaterThan(0) // the stream really was cut
    for (const o of unanswered) expect(o.status === 'cut' || o.status === 503).toBe(true)

    const second = await startMain(dataDir, port)
    const client = new Client(second.url)
    client.cookie = ada.client.cookie
    for (const o of unanswered) {
      const res = await client.request('POST', `/api/conversations/${general}/messages`, { bodyMd: o.body }, { 'idempotency-key': o.key })
      expect([200, 201]).toContain(res.status)
      expect(res.body.message.bodyMd).toBe(o.body)
    }
    // A retry of an answered post posts nothing and answers with the same message.
    const again = await client.request('POST', `/api/conversations/${general}/messages`, { bodyMd: answered[0]!.body }, { 'idempotency-key': answered[0]!.key })
    expect(again.status).toBe(200)
    expect(again.body.message.id).toBe(answered[0]!.id)

    const stored = (await allBodies(client, general)).filter((m) => m.bodyMd.startsWith('stream '))
    const counts = new Map<string, number>()
    for (const m of stored) counts.set(m.bodyMd, (counts.get(m.bodyMd) ?? 0) + 1)
    expect([...counts.values()].every((n) => n === 1)).toBe(true) // none twice
    expect(new Set(counts.keys())).toEqual(new Set(stream.outcomes.map((o) => o.body))) // none lost
    // And every answered post is the message it was answered with.
    const byBody = new Map(stored.map((m) => [m.bodyMd, m.id]))
    for (const o of answered) expect(byBody.get(o.body)).toBe(o.id)

    second.proc.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 60_000)
})
