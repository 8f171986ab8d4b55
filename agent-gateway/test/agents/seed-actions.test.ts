import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentPacket } from '@circlechat/protocol'
import { approvalById } from '../../src/agents/approvals.js'
import { executeApproved } from '../../src/agents/executor.js'
import { MAX_MEMORY_ENTRIES, MAX_MEMORY_VALUE_BYTES } from '../../src/agents/memory.js'
import { FakeAgent, agentInfo, botClient, messagesOf, provision, say, waitFor, world, type Provisioned, type World } from './helpers.js'

// The actions the seed's agents send beyond the original allowlist (memory blocks, call_tool),
// post_message attachments that are not uploads, and approvals: repeats refused, an approved action run exactly once.
// A real server and SQLite file, and an in-process webhook agent whose replies each test chooses.

describe('seed actions', () => {
  let w: World
  let hook: FakeAgent
  let bot: Provisioned
  const replies = new Map<string, (p: AgentPacket) => unknown>()

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent((p) => (replies.get(p.agent.handle) ?? (() => 'HEARTBEAT_OK'))(p)).start()
    bot = await provision(w.ada.client, { name: 'Seed', handle: 'seed', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], reportsTo: w.ada.member.id })
  })
  afterAll(async () => {
    await hook.close()
    await w.server.close()
  })

  /** Mentions the agent, answers with `reply`, and returns its finished run and the packet it got. */
  async function runWith(a: Provisioned, reply: (p: AgentPacket) => unknown) {
    const before = hook.packets.length
    replies.set(a.handle, reply)
    await say(w.bob.client, w.channelId, `@${a.handle} go ${Math.random().toString(36).slice(2)}`)
    const got = await waitFor(() => hook.packets.slice(before).find((p) => p.packet.agent.handle === a.handle), 10_000, `${a.handle}'s packet`)
    await w.server.agents.queue.idle()
    const run = (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.id === got.packet.runId)!
    return { run, packet: got.packet }
  }

  const memory = async (key: string, scope = 'global') => {
    const rows = (await botClient(w.server.url, bot.botToken).get(`/api/agent-api/memory?key=${key}&scope=${scope}`)).body.memory as Array<{ value: unknown }>
    return rows.length ? rows[0]!.value : undefined
  }
  const postsBy = async (memberId: string, body: string) => (await messagesOf(w.bob.client, w.channelId)).filter((m) => m.memberId === memberId && m.bodyMd === body)

  it('memory_append, memory_rethink and delete_memory in a reply, with the seed\'s field names', async () => {
    const { run } = await runWith(bot, () => ({ actions: [
      { type: 'memory_append', key: 'notes', text: 'first' },
      { type: 'memory_append', label: 'notes', content: 'second' },
      { type: 'memory_append', key: 'notes', value: 'third' },
      { type: 'memory_append', key: 'topic', text: 'launch', scope: 'conversation' },
      { type: 'memory_rethink', label: 'persona', new_memory: 'terse and kind' },
      { type: 'set_memory', key: 'gone', value: 1 },
      { type: 'delete_memory', key: 'gone' },
      { type: 'delete_memory', key: 'never-was' }
    ] }))
    expect(run.errors).toEqual([])
    expect(run.applied.map((a) => a.type)).toEqual(['memory_append', 'memory_append', 'memory_append', 'memory_append', 'memory_rethink', 'set_memory', 'delete_memory', 'delete_memory'])
    expect(run.applied.slice(6).map((a) => a.result)).toEqual([{ deleted: true }, { deleted: false }])
    expect(await memory('notes')).toBe('first\nsecond\nthird')
    expect(await memory('topic', 'conversation')).toBe('launch')
    expect(await memory('persona')).toBe('terse and kind')
    expect(await memory('gone')).toBeUndefined()
    // The next packet carries them.
    const { packet } = await runWith(bot, () => ({ actions: [{ type: 'memory_rethink', key: 'notes', value: 'rewritten' }] }))
    expect(packet.memory.global).toMatchObject({ notes: 'first\nsecond\nthird', persona: 'terse and kind' })
    expect(packet.memory.byConversation[w.channelId]).toEqual({ topic: 'launch' })
    expect(await memory('notes')).toBe('rewritten')
  })

  it('memory actions refuse what they cannot do, for a reason the agent reads', async () => {
    const api = botClient(w.server.url, bot.botToken)
    await api.post('/api/agent-api/act', { actions: [{ type: 'set_memory', key: 'plan', value: { step: 1 } }, { type: 'memory_rethink', key: 'big', value: 'x'.repeat(MAX_MEMORY_VALUE_BYTES - 100) }] })
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'memory_append', key: 'plan', text: 'more' },
      { type: 'memory_append', key: 'big', text: 'y'.repeat(200) },
      { type: 'memory_append', text: 'no key' },
      { type: 'memory_append', key: 'k' },
      { type: 'memory_rethink', key: 'k' },
      { type: 'delete_memory', key: 'k', scope: 'task' },
      { type: 'memory_append', key: 'k'.repeat(201), text: 'x' }
    ] })
    expect(res.body.results).toEqual([])
    const errors = res.body.errorDetails.map((e: { error: string }) => e.error)
    expect(errors[0]).toMatch(/holds an object, not text: memory_append adds to text only/)
    expect(errors[1]).toMatch(/limited to 8192 bytes/)
    expect(errors[2]).toMatch(/key \(or label\) is required/)
    expect(errors[3]).toMatch(/text \(or content, value\) is required/)
    expect(errors[4]).toMatch(/value \(or new_value/)
    expect(errors[5]).toMatch(/task memory needs scope_id/)
    expect(errors[6]).toMatch(/key/)
    // Nothing changed.
    expect(await memory('plan')).toEqual({ step: 1 })
    expect(String(await memory('big')).length).toBe(MAX_MEMORY_VALUE_BYTES - 100)
  })

  it('a value nested deeper than JSON.stringify goes is refused, not an internal error', async () => {
    // Raw text: JSON.parse takes this nesting, JSON.stringify overflows on it.
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const { run } = await runWith(bot, () => `{"actions":[{"type":"call_tool","name":"deep","args":${deep}},{"type":"memory_rethink","key":"deep","value":${deep}},{"type":"request_approval","scope":"s","action":"a","payload":${deep}}]}`)
    expect(run.errors.map((e) => e.error)).toEqual(['value is nested too deeply', 'value is nested too deeply', 'value is nested too deeply'])
  })

  it('an agent keeps a bounded number of memory entries; changing one it has is still allowed', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const sql = w.server.gateway.db.$client
    const task = (await w.ada.client.post('/api/tasks', { conversationId: w.channelId, title: 'Fill memory' })).body.task as { id: string }
    const held = sql.prepare('SELECT count(*) FROM agent_memory WHERE agent_id = ?').pluck().get(bot.id) as number
    const fill = sql.prepare("INSERT INTO agent_memory (agent_id, scope, scope_id, key, value, updated_at) VALUES (?, 'task', ?, ?, '1', 0)")
    sql.transaction(() => { for (let i = held; i < MAX_MEMORY_ENTRIES; i++) fill.run(bot.id, task.id, `fill_${i}`) })()
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'memory_append', key: 'one-too-many', text: 'x' },
      { type: 'memory_rethink', key: 'fill_499', scope: 'task', scope_id: task.id, value: 2 }
    ] })
    expect(res.body.errorDetails).toEqual([{ index: 0, type: 'memory_append', error: expect.stringMatching(/at most 500 memory entries/) }])
    expect(res.body.results.map((a: { type: string }) => a.type)).toEqual(['memory_rethink'])
    sql.prepare('DELETE FROM agent_memory WHERE agent_id = ? AND scope_id = ?').run(bot.id, task.id)
  })

  it('the memory actions and call_tool through POST /api/agent-api/act', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'memory_append', key: 'log', text: 'one' },
      { type: 'memory_append', key: 'log', content: 'two' },
      { type: 'memory_rethink', key: 'mood', new_value: { calm: true } },
      { type: 'delete_memory', key: 'log' },
      { type: 'call_tool', name: 'web_search', args: { q: 'circlechat' } },
      { type: 'call_tool', tool: 'fetch', arguments: { url: 'https://example.com/'.padEnd(5000, 'z') } }
    ] })
    expect(res.body.ok).toBe(true)
    expect(res.body.results.map((a: { type: string }) => a.type)).toEqual(['memory_append', 'memory_append', 'memory_rethink', 'delete_memory', 'call_tool', 'call_tool'])
    expect(await memory('log')).toBeUndefined()
    expect(await memory('mood')).toEqual({ calm: true })
    const [search, fetched] = res.body.results.slice(4).map((a: { result: { name: string; args: string; executed: boolean } }) => a.result)
    expect(search).toEqual({ name: 'web_search', args: '{"q":"circlechat"}', executed: false })
    // What is recorded is cut to a readable size.
    expect(fetched.name).toBe('fetch')
    expect(fetched.args.length).toBe(2001)
    expect(fetched.args.endsWith('…')).toBe(true)
  })

  it('call_tool in a reply is recorded on the run and runs nothing', async () => {
    const { run } = await runWith(bot, () => ({ actions: [{ type: 'call_tool', name: 'send_email', args: { to: 'x@example.com' } }] }))
    expect(run.status).toBe('ok')
    expect(run.applied).toEqual([{ index: 0, type: 'call_tool', result: { name: 'send_email', args: '{"to":"x@example.com"}', executed: false } }])
  })

  it('post_message with attachments that are not uploads (a url, a path) is refused whole, with the reason on the run and in lastRun', async () => {
    const body = 'Here is the report you asked for'
    const { run } = await runWith(bot, (p) => ({ actions: [
      { type: 'post_message', conversation_id: p.triggerConversationId, body_md: body, attachments: [{ url: 'https://example.com/r.pdf' }] },
      { type: 'open_thread', message_id: p.triggerMessageId, body_md: 'With a file in the thread', attachments: [{ path: '/tmp/a.txt' }] },
      { type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'Empty attachments are fine', attachments: [] }
    ] }))
    expect(run.errors.map((e) => [e.index, e.type])).toEqual([[0, 'post_message'], [1, 'open_thread']])
    for (const e of run.errors) expect(e.error).toMatch(/attachments is a list .*POST \/api\/agent-api\/uploads; nothing was posted/)
    expect(await postsBy(bot.memberId, body)).toEqual([])
    expect(await postsBy(bot.memberId, 'Empty attachments are fine')).toHaveLength(1)
    const { packet } = await runWith(bot, () => 'HEARTBEAT_OK')
    expect(packet.lastRun?.runId).toBe(run.id)
    expect(JSON.stringify(packet.lastRun?.errors)).toContain('attachments is a list')
    // The REST side says the same.
    const api = botClient(w.server.url, bot.botToken)
    const res = await api.post('/api/agent-api/act', { action: { type: 'post_message', conversation_id: w.channelId, body_md: body, attachments: [{ url: 'https://example.com/r.pdf' }] } })
    expect(res.body).toMatchObject({ ok: false, applied: 0, results: [], errorDetails: [{ index: 0, type: 'post_message', error: expect.stringMatching(/attachments is a list/) }] })
    expect(await postsBy(bot.memberId, body)).toEqual([])
  })

  it('a request identical to a pending one, or to one denied within the hour, is refused', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const reason = 'the billing fix is ready and the smoke tests passed on staging'
    const ask = { type: 'request_approval', scope: 'deploy', action: 'Ship v3 to production', payload: { version: 3, reason: `${reason} tonight` }, conversation_id: w.channelId }
    const first = await api.post('/api/agent-api/act', { action: ask })
    expect(first.body.ok).toBe(true)
    const approvalId = first.body.results[0].result.approvalId
    const again = await api.post('/api/agent-api/act', { action: ask })
    expect(again.body.errorDetails[0].error).toMatch(new RegExp(`duplicate request: the same as approval ${approvalId}, still waiting`))
    // A word changed is still the same request.
    const near = await api.post('/api/agent-api/act', { action: { ...ask, payload: { version: 3, reason: `${reason} today` } } })
    expect(near.body.errorDetails[0].error).toMatch(/near-duplicate request/)
    // Elsewhere in scope or payload it is another request.
    expect((await api.post('/api/agent-api/act', { action: { ...ask, scope: 'spend' } })).body.ok).toBe(true)
    const count = () => w.server.gateway.db.$client.prepare("SELECT count(*) FROM approvals WHERE agent_id = ? AND scope = 'deploy'").pluck().get(bot.id)
    expect(count()).toBe(1)

    expect((await w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'deny', note: 'not tonight' })).body.status).toBe('denied')
    const denied = await api.post('/api/agent-api/act', { action: ask })
    expect(denied.body.errorDetails[0].error).toMatch(/denied 1 min ago \("not tonight"\); do not ask again within the hour/)
    expect(count()).toBe(1)
    // An hour on, it may ask again.
    w.server.gateway.db.$client.prepare('UPDATE approvals SET decided_at = decided_at - 3600001 WHERE id = ?').run(approvalId)
    expect((await api.post('/api/agent-api/act', { action: ask })).body.ok).toBe(true)
    await w.server.agents.queue.idle()
  })

  it('a held action one person denied is not asked again at once', async () => {
    const reader = await provision(w.ada.client, { name: 'Reader', handle: 'reader', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], scopes: ['channels.read'] })
    const post = (p: AgentPacket) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'The reader insists on saying this' }] })
    const { run } = await runWith(reader, post)
    await w.ada.client.post(`/api/approvals/${run.applied[0]!.result.approvalId}/decide`, { decision: 'deny' })
    const { run: again } = await runWith(reader, post)
    expect(again.applied).toEqual([])
    expect(again.errors[0]!.error).toMatch(/duplicate request: .*denied/)
  })

  it('an action in a request_approval payload runs once on approval, even approved twice at once; its result is kept', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const body = 'Posted once an admin said yes'
    const asked = await api.post('/api/agent-api/act', { action: { type: 'request_approval', scope: 'announce', action: 'Announce the launch', payload: { type: 'post_message', conversation_id: w.channelId, body_md: body } } })
    expect(asked.body.ok).toBe(true)
    const approvalId = asked.body.results[0].result.approvalId
    const listed = (await w.ada.client.get('/api/approvals')).body.approvals.find((a: { id: string }) => a.id === approvalId)
    expect(listed).toMatchObject({ status: 'pending', scope: 'announce', action: 'Announce the launch', payload: { type: 'post_message', body_md: body } })

    const decisions = await Promise.all([1, 2].map(() => w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve' })))
    expect(decisions.map((d) => d.status).sort()).toEqual([200, 409])
    expect(decisions.find((d) => d.status === 200)!.body).toEqual({ ok: true, status: 'approved', executed: { ok: true } })
    const posted = await postsBy(bot.memberId, body)
    expect(posted).toHaveLength(1)
    const row = approvalById(w.server.gateway.db, approvalId)!
    expect(row).toMatchObject({ status: 'approved', executedAt: expect.any(Number), result: { ok: true, result: { messageId: posted[0]!.id } } })
    // A second runner (another process, a retry) finds it claimed and runs nothing.
    expect(await executeApproved(w.server.gateway, row)).toEqual({ ok: false, error: expect.stringMatching(/already executed/) })
    // The approvals list still reads.
    expect((await w.ada.client.get('/api/approvals?status=approved')).body.approvals.find((a: { id: string }) => a.id === approvalId)).toMatchObject({ status: 'approved' })
    // The agent's approval_response packet says what approving ran.
    const woke = await waitFor(() => hook.packets.find((p) => p.packet.trigger === 'approval_response' && p.packet.approvalResponse?.id === approvalId)?.packet, 10_000, 'the approval_response packet')
    expect(woke.approvalResponse).toMatchObject({ status: 'approved', executed: { ok: true, result: { messageId: posted[0]!.id } } })
    await w.server.agents.queue.idle()
    expect(await postsBy(bot.memberId, body)).toHaveLength(1)
  })

  it('two runners racing on one approved held action run it once', async () => {
    const shy = await provision(w.ada.client, { name: 'Shy', handle: 'shy', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], scopes: ['channels.read'] })
    const body = 'The shy one finally speaks up'
    const { run } = await runWith(shy, (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: body }] }))
    const approvalId = run.applied[0]!.result.approvalId as string
    // As two processes would: the approval is approved, then each runs what it holds.
    w.server.gateway.db.$client.prepare("UPDATE approvals SET status = 'approved' WHERE id = ?").run(approvalId)
    const row = approvalById(w.server.gateway.db, approvalId)!
    const outcomes = await Promise.all([executeApproved(w.server.gateway, row), executeApproved(w.server.gateway, row)])
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(await postsBy(shy.memberId, body)).toHaveLength(1)
    const recorded = (await agentInfo(w.ada.client, shy.id)).runs.find((r) => r.id === run.id)!
    expect(recorded.applied.filter((a) => a.index === -1)).toHaveLength(1)
  })

  it('a request_approval payload that is an action must be one that could run', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'request_approval', scope: 'x', action: 'Broken post', payload: { type: 'post_message', body_md: 'no conversation' } },
      { type: 'request_approval', scope: 'x', action: 'Nested', payload: { type: 'request_approval', scope: 'y', action: 'z' } },
      { type: 'request_approval', scope: 'x', action: 'Too big', payload: { blob: 'b'.repeat(20_000) } }
    ] })
    expect(res.body.results).toEqual([])
    expect(res.body.errorDetails.map((e: { error: string }) => e.error)).toEqual([
      expect.stringMatching(/^payload: post_message: conversation_id/),
      expect.stringMatching(/cannot hold another request_approval/),
      expect.stringMatching(/payloads are limited to/)
    ])
  })

  it('every packet validated against the contract schema', () => {
    expect(hook.invalid).toEqual([])
  })
})
