// bench/agents: the agent runtime's cost to chat, with 20 webhook agents on loopback.
//  1. trigger latency: message accepted (REST 201) → the agent holds its packet, p50/p99, each
//     agent mentioned in turn; and one @everyone (staggered by design: first and last agent).
//  2. relay: humans post 20 msg/s for 10 s over sync clients; messages relayed per second and
//     send→receive p50/p99 at another human, with the agents idle (not in the channel) and with
//     all 20 in the channel, woken by every post and answering slowly (5 s a run).
// Run: npx tsx bench/agents.ts
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { appendMessage, docName, listMessages } from '@circlechat/model'
import { openDb } from '@circlechat/db'
import { addPerson, signupAdmin, type Client } from '../agent-gateway/src/test/harness.js'
import { syncClient, whenSynced } from '../agent-gateway/src/test/sync-client.js'
import { fmt, percentile, startServerChild } from './lib/stats.js'

const AGENTS = 20
const SENDERS = 10
const RATE = 20
const SECONDS = 10
const SLOW_MS = 5000

process.env.NODE_ENV ??= 'production'
const log = console.log
console.log = () => {} // the server prints invite links; keep the output to figures

interface Packet { runId: string; trigger: string; triggerMessageId: string | null; triggerConversationId: string | null }
type Hook = { server: Server; url: string; received: Array<{ at: number; packet: Packet }>; delayMs: number; reply: (p: Packet) => unknown }

async function hook(): Promise<Hook> {
  const h = { received: [], delayMs: 0, reply: () => 'HEARTBEAT_OK' } as unknown as Hook
  h.server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const packet = JSON.parse(Buffer.concat(chunks).toString()) as Packet
    h.received.push({ at: Date.now(), packet })
    if (h.delayMs) await new Promise((r) => setTimeout(r, h.delayMs))
    const out = h.reply(packet)
    res.writeHead(200, { 'content-type': typeof out === 'string' ? 'text/plain' : 'application/json' }).end(typeof out === 'string' ? out : JSON.stringify(out))
  })
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', () => r()))
  h.url = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`
  return h
}

const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-agents-'))
// The server runs in its own process: the fake agents and sync clients here must not share
// its event loop, or their work would show up as relay latency.
const { child, url: serverUrl } = await startServerChild(dataDir)
const server = { url: serverUrl }
const db = openDb(join(dataDir, 'circlechat.db'))
/** No run queued or running (the server's queue is in the other process). */
async function runsSettled() {
  await new Promise((r) => setTimeout(r, 200))
  while ((db.$client.prepare("SELECT count(*) FROM agent_runs WHERE status IN ('queued', 'running')").pluck().get() as number) > 0) await new Promise((r) => setTimeout(r, 50))
}
const ada = await signupAdmin(server.url)
const people: Array<{ client: Client; member: { id: string } }> = [ada]
for (let i = 1; i <= SENDERS; i++) people.push(await addPerson(server.url, ada.client, `person${i}`))
const create = async (name: string, memberIds: string[]) => (await ada.client.post('/api/conversations', { kind: 'channel', name, memberIds })).body.conversation.id as string
const agentsChannel = await create('agents', [])
const hooks: Hook[] = []
const agents: Array<{ id: string; memberId: string; handle: string }> = []
for (let i = 0; i < AGENTS; i++) {
  const h = await hook()
  hooks.push(h)
  const res = await ada.client.post('/api/agents', { name: `Agent ${i}`, handle: `agent${i}`, adapter: 'webhook', callbackUrl: h.url, channelIds: [agentsChannel], heartbeatIntervalSec: 86_400 })
  agents.push(res.body)
}

// 1. Trigger latency, one agent at a time (so no run is ever coalesced).
const latencies: number[] = []
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < AGENTS; i++) {
    const before = hooks[i]!.received.length
    const res = await ada.client.post(`/api/conversations/${agentsChannel}/messages`, { bodyMd: `@agent${i} ping ${round}` })
    const accepted = res.body.message.createdAt as number
    while (hooks[i]!.received.length === before) await new Promise((r) => setTimeout(r, 1))
    latencies.push(hooks[i]!.received[before]!.at - accepted)
  }
}
await runsSettled()
latencies.sort((a, b) => a - b)
log(`trigger latency, ${AGENTS} agents mentioned in turn (${latencies.length} mentions): p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1)!)}`)

const marks = hooks.map((h) => h.received.length)
const everyone = await ada.client.post(`/api/conversations/${agentsChannel}/messages`, { bodyMd: '@everyone standup' })
while (hooks.some((h, i) => h.received.length === marks[i])) await new Promise((r) => setTimeout(r, 1))
const woke = hooks.map((h, i) => h.received[marks[i]!]!.at - everyone.body.message.createdAt).sort((a, b) => a - b)
log(`@everyone → ${AGENTS} agents: first ${fmt(woke[0]!)}, last ${fmt(woke.at(-1)!)} (staggered 400 ms apart by design)`)
await runsSettled()

// 2. Relay throughput and latency.
async function relay(label: string, channelId: string) {
  const receiver = people[0]!
  const rdoc = new Y.Doc()
  const rp = syncClient(server.url, receiver.client.cookie!, docName.conv(channelId, 0), rdoc)
  const senders = people.slice(1).map((p) => ({ p: syncClient(server.url, p.client.cookie!, docName.conv(channelId, 0)), id: p.member.id }))
  await Promise.all([rp, ...senders.map((s) => s.p)].map(whenSynced))
  const sent = new Map<string, number>()
  const arrived = new Map<string, number>()
  rdoc.on('update', () => {
    const now = performance.now()
    for (const m of listMessages(rdoc)) if (sent.has(m.body) && !arrived.has(m.body)) arrived.set(m.body, now)
  })
  const total = RATE * SECONDS
  const start = performance.now()
  for (let i = 0; i < total; i++) {
    const { p, id } = senders[i % senders.length]!
    const body = `${label} message ${i} ${'lorem ipsum '.repeat(3)}`
    sent.set(body, performance.now())
    appendMessage(p.doc, { author: id, body })
    const next = start + ((i + 1) * 1000) / RATE
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())))
  }
  const until = performance.now() + 5000
  while (arrived.size < total && performance.now() < until) await new Promise((r) => setTimeout(r, 20))
  const lat = [...arrived].map(([body, at]) => at - sent.get(body)!).sort((a, b) => a - b)
  const span = (Math.max(...arrived.values()) - start) / 1000
  log(`relay, ${label}: ${arrived.size}/${total} relayed, ${(arrived.size / span).toFixed(1)} msg/s, p50 ${fmt(percentile(lat, 50))}, p99 ${fmt(percentile(lat, 99))}, max ${fmt(lat.at(-1)!)}`)
  rp.destroy()
  for (const s of senders) s.p.destroy()
}

const quiet = await create('humans', people.slice(1).map((p) => p.member.id))
await relay('agents idle', quiet)

const busy = await create('busy', people.slice(1).map((p) => p.member.id))
for (const a of agents) await ada.client.post(`/api/conversations/${busy}/members`, { memberIds: [a.memberId] })
const inBusy = db.$client.prepare('SELECT count(*) FROM conversation_members cm JOIN members m ON m.id = cm.member_id WHERE cm.conversation_id = ? AND m.kind = ?').pluck().get(busy, 'agent')
let answers = 0
for (const h of hooks) {
  h.delayMs = SLOW_MS
  h.reply = (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: `Slow answer number ${++answers} from a busy agent` }] })
}
const runsBefore = db.$client.prepare('SELECT count(*) FROM agent_runs').pluck().get() as number
await relay(`${inBusy} agents in the channel, each post waking them, ${SLOW_MS / 1000} s runs`, busy)
const runsDuring = (db.$client.prepare('SELECT count(*) FROM agent_runs').pluck().get() as number) - runsBefore
log(`  agent runs started during that window: ${runsDuring} (coalesced from ${RATE * SECONDS * AGENTS} wakes); agent replies posted: ${answers}`)

for (const h of hooks) {
  h.delayMs = 0
  h.server.closeAllConnections()
  h.server.close()
}
db.$client.close()
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
