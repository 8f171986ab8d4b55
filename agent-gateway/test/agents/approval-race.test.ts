import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openDb, type Db } from '@circlechat/db'
import type { Gateway } from '../../src/deps.js'
import { executeActions } from '../../src/agents/executor.js'
import { agentById } from '../../src/agents/store.js'
import { botClient, messagesOf, provision, world, type Provisioned, type World } from './helpers.js'

// Duplicate approval requests across gateway processes (AGENT_WORKERS=external: several processes
// on one SQLite file). The check before the insert is per connection; the unique index on pending
// (agent, fingerprint) is what holds. Each "process" here is a gateway with its own connection.

describe('approval requests racing across processes', () => {
  let w: World
  let bot: Provisioned
  let reader: Provisioned
  const file = () => join(w.server.dataDir, 'circlechat.db')
  const opened: Array<{ close(): unknown }> = []

  /** Another gateway process: the same documents, its own connection to the database file. */
  function otherProcess(): Gateway {
    const db = openDb(file())
    opened.push(db.$client)
    return { ...w.server.gateway, db }
  }
  /** As if this process read before the other one wrote: its pre-insert checks find nothing. */
  function readsTooEarly(gw: Gateway) {
    const prepare = gw.db.$client.prepare.bind(gw.db.$client)
    vi.spyOn(gw.db.$client, 'prepare').mockImplementation(((source: string) => {
      if (source.includes("status = 'denied' AND decided_at > ?")) return { all: () => [] }
      if (source.includes('AND pending_action = ?')) return { pluck: () => ({ get: () => undefined }) }
      return prepare(source)
    }) as typeof prepare)
  }
  const pendingOf = (agentId: string) => w.server.gateway.db.$client
    .prepare("SELECT id, fingerprint FROM approvals WHERE agent_id = ? AND status = 'pending' ORDER BY created_at").all(agentId) as Array<{ id: string; fingerprint: string | null }>
  const cardsFor = async (memberId: string) => (await messagesOf(w.bob.client, w.channelId)).filter((m) => m.memberId === memberId && m.card)

  beforeAll(async () => {
    w = await world()
    bot = await provision(w.ada.client, { name: 'Racer', handle: 'racer', adapter: 'webhook', callbackUrl: 'http://127.0.0.1:9/none', channelIds: [w.channelId], heartbeatIntervalSec: 3600 })
    reader = await provision(w.ada.client, { name: 'Reader', handle: 'reader', adapter: 'webhook', callbackUrl: 'http://127.0.0.1:9/none', channelIds: [w.channelId], scopes: ['channels.read'], heartbeatIntervalSec: 3600 })
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    for (const c of opened) c.close()
    await w.server.close()
  })

  // A call's check and insert run without yielding, so within one event loop this holds even
  // without the index; the next tests force the interleaving two processes allow.
  it('the same request from two processes at once is pending once', async () => {
    const a = otherProcess()
    const b = otherProcess()
    const ask = { type: 'request_approval', scope: 'deploy', action: 'Ship v4 to production', payload: { version: 4 }, conversation_id: w.channelId }
    const ctx = { runId: 'race-1', conversationId: w.channelId }
    const out = await Promise.all([a, b].map((gw) => executeActions(gw, agentById(gw.db, bot.id)!, [ask], ctx)))
    const won = out.flatMap((o) => o.applied)
    expect(won).toHaveLength(1)
    const approvalId = (won[0]!.result as { approvalId: string }).approvalId
    expect(out.flatMap((o) => o.errors)).toEqual([{ index: 0, type: 'request_approval', error: expect.stringMatching(new RegExp(`duplicate request: the same as approval ${approvalId}, still waiting`)) }])
    expect(pendingOf(bot.id)).toEqual([{ id: approvalId, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) }])
    expect(await cardsFor(bot.memberId)).toHaveLength(1)
  })

  it('when the check ran before the other process inserted, the insert is refused with the pending id', async () => {
    const a = otherProcess()
    const b = otherProcess()
    const ask = { type: 'request_approval', scope: 'spend', action: 'Buy 3 more build runners', payload: { seats: 3 }, conversation_id: w.channelId }
    const ctx = { runId: 'race-2', conversationId: w.channelId }
    const first = await executeActions(b, agentById(b.db, bot.id)!, [ask], ctx)
    const approvalId = (first.applied[0]!.result as { approvalId: string }).approvalId
    readsTooEarly(a)
    const second = await executeActions(a, agentById(a.db, bot.id)!, [ask], ctx)
    expect(second.applied).toEqual([])
    expect(second.errors[0]!.error).toMatch(new RegExp(`^duplicate request: the same as approval ${approvalId}, still waiting`))
    const { fingerprint } = pendingOf(bot.id).find((r) => r.id === approvalId)!
    expect(pendingOf(bot.id).filter((r) => r.fingerprint === fingerprint)).toHaveLength(1)
    expect(await cardsFor(bot.memberId)).toHaveLength(2)
  })

  it('a held out-of-scope action answers the pending approval that won', async () => {
    const a = otherProcess()
    const b = otherProcess()
    const action = { type: 'post_message', conversation_id: w.channelId, body_md: 'The reader would like to say one thing' }
    const ctx = { runId: 'race-3', conversationId: w.channelId }
    const first = await executeActions(b, agentById(b.db, reader.id)!, [action], ctx)
    expect(first.applied[0]!.result).toMatchObject({ status: 'pending', needsScope: expect.any(String) })
    const approvalId = (first.applied[0]!.result as { approvalId: string }).approvalId
    readsTooEarly(a)
    const second = await executeActions(a, agentById(a.db, reader.id)!, [action], ctx)
    expect(second).toEqual({ applied: [{ index: 0, type: 'post_message', result: { approvalId, status: 'pending', needsScope: first.applied[0]!.result!.needsScope } }], errors: [] })
    expect(pendingOf(reader.id).map((r) => r.id)).toEqual([approvalId])
    expect(await cardsFor(reader.memberId)).toHaveLength(1)
  })

  it('a payload with its keys in another order is the same request', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const ask = { type: 'request_approval', scope: 'ops', action: 'Rotate keys', conversation_id: w.channelId }
    const first = await api.post('/api/agent-api/act', { action: { ...ask, payload: { region: 'eu', service: 'billing' } } })
    const approvalId = first.body.results[0].result.approvalId
    // Neither advisory check sees it (the JSON differs, and so do its word triples); the index does.
    const again = await api.post('/api/agent-api/act', { action: { ...ask, payload: { service: 'billing', region: 'eu' } } })
    expect(again.body.errorDetails[0].error).toMatch(new RegExp(`^duplicate request: the same as approval ${approvalId}, still waiting`))
  })

  it('a second connection cannot insert the same pending fingerprint; decided and older rows do not block', () => {
    // A bare better-sqlite3 connection (no migrations, no pragmas), as any other process would open.
    const Sqlite = w.server.gateway.db.$client.constructor as new (file: string) => Db['$client']
    const other = new Sqlite(file())
    opened.push(other)
    other.pragma('busy_timeout = 5000')
    const [pending] = pendingOf(bot.id)
    const copy = (id: string, status: string, fingerprint: string | null) => other.prepare(`
      INSERT INTO approvals (id, workspace_id, agent_id, run_id, conversation_id, scope, action, payload, status, fingerprint, created_at)
      SELECT ?, workspace_id, agent_id, run_id, conversation_id, scope, action, payload, ?, ?, ? FROM approvals WHERE id = ?`).run(id, status, fingerprint, Date.now(), pending!.id)
    expect(() => copy('approval_copy_pending', 'pending', pending!.fingerprint)).toThrow(/UNIQUE constraint failed: approvals\.agent_id, approvals\.fingerprint/)
    // Only pending rows are unique: the same request decided before, or rows from before fingerprints.
    expect(copy('approval_copy_denied', 'denied', pending!.fingerprint).changes).toBe(1)
    expect(copy('approval_legacy_1', 'pending', null).changes).toBe(1)
    expect(copy('approval_legacy_2', 'pending', null).changes).toBe(1)
    // Once the pending one is decided, the same request may wait again.
    other.prepare("UPDATE approvals SET status = 'denied', decided_at = ? WHERE id = ?").run(Date.now(), pending!.id)
    expect(copy('approval_copy_again', 'pending', pending!.fingerprint).changes).toBe(1)
  })
})
