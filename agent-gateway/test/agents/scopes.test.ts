import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentPacket } from '@circlechat/protocol'
import { FakeAgent, agentInfo, botClient, messagesOf, provision, say, waitFor, world, type Provisioned, type World } from './helpers.js'

// Scopes enforced by the executor (packages/protocol/src/agent/scopes.ts): a real server, a real
// SQLite file and an in-process webhook agent whose replies each test chooses.

describe('agent scopes', () => {
  let w: World
  let hook: FakeAgent
  const replies = new Map<string, (p: AgentPacket) => unknown>()

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent((p) => (replies.get(p.agent.handle) ?? (() => 'HEARTBEAT_OK'))(p)).start()
  })
  afterAll(async () => {
    await hook.close()
    await w.server.close()
  })

  const agentWith = (handle: string, scopes?: string[]) =>
    provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], ...(scopes ? { scopes } : {}) })

  /** Mentions the agent, answers with `reply`, and returns its finished run and the packet it got. */
  async function runWith(a: Provisioned, handle: string, reply: (p: AgentPacket) => unknown) {
    const before = hook.packets.length
    replies.set(handle, reply)
    await say(w.bob.client, w.channelId, `@${handle} go ${Math.random().toString(36).slice(2)}`)
    const got = await waitFor(() => hook.packets.slice(before).find((p) => p.packet.agent.handle === handle), 10_000, `${handle}'s packet`)
    await w.server.agents.queue.idle()
    const run = (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.id === got.packet.runId)!
    return { run, packet: got.packet }
  }

  const postsBy = async (memberId: string, body: string) => (await messagesOf(w.bob.client, w.channelId)).filter((m) => m.memberId === memberId && m.bodyMd === body)

  it('channels.read only: a post becomes an approval, approving runs it once and records it on the run', async () => {
    const a = await agentWith('reader', ['channels.read'])
    const body = 'A reply the reader wants to post'
    const { run, packet } = await runWith(a, 'reader', (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: body }] }))
    // It reads: the packet carries the conversation.
    expect(packet.inbox[0]?.conversationId).toBe(w.channelId)
    expect(packet.inbox[0]?.messages.length).toBeGreaterThan(0)
    expect(run.errors).toEqual([])
    const held = run.applied[0]!
    expect(held).toMatchObject({ type: 'post_message', result: { status: 'pending', needsScope: 'channels.reply' } })
    const approvalId = held.result.approvalId as string
    expect(await postsBy(a.memberId, body)).toEqual([])

    // A card in the channel; the approval holds the action as its payload.
    const card = (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId && m.card)
    expect(card?.card).toEqual({ kind: 'approval', approvalId, status: 'pending' })
    const listed = (await w.ada.client.get('/api/approvals')).body.approvals.find((x: { id: string }) => x.id === approvalId)
    expect(listed).toMatchObject({ scope: 'channels.reply', action: 'post_message', status: 'pending', canDecide: true, payload: { type: 'post_message', body_md: body } })

    // The same pending request is not asked twice.
    const again = await runWith(a, 'reader', (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: body }] }))
    expect(again.run.applied[0]!.result.approvalId).toBe(approvalId)

    expect((await w.bob.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve' })).status).toBe(403)
    const ok = await w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve' })
    expect(ok.body).toEqual({ ok: true, status: 'approved', executed: { ok: true } })
    expect((await w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve' })).status).toBe(409)
    const posted = await postsBy(a.memberId, body)
    expect(posted.length).toBe(1)
    const recorded = (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.id === run.id)!
    expect(recorded.applied.at(-1)).toEqual({ index: -1, type: 'post_message', approvalId, result: { messageId: posted[0]!.id } })
    await w.server.agents.queue.idle()
    expect((await postsBy(a.memberId, body)).length).toBe(1)
  })

  it('a denied request never runs; react and open_thread are held the same way', async () => {
    const a = await agentWith('quiet', ['channels.read'])
    const { run } = await runWith(a, 'quiet', (p) => ({ actions: [
      { type: 'react', message_id: p.triggerMessageId, emoji: '👍' },
      { type: 'open_thread', message_id: p.triggerMessageId, body_md: 'A thread the quiet one wants' },
      { type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'Denied words from the quiet one' }
    ] }))
    expect(run.applied.map((x) => [x.type, x.result?.needsScope])).toEqual([['react', 'channels.reply'], ['open_thread', 'channels.reply'], ['post_message', 'channels.reply']])
    const denied = await w.ada.client.post(`/api/approvals/${run.applied[2]!.result.approvalId}/decide`, { decision: 'deny' })
    expect(denied.body).toEqual({ ok: true, status: 'denied' })
    expect(await postsBy(a.memberId, 'Denied words from the quiet one')).toEqual([])
    await w.server.agents.queue.idle()
  })

  it('an out-of-scope action aimed at a conversation the agent is not in is refused, not asked', async () => {
    const a = await agentWith('nosy', ['channels.read'])
    const secret = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'secret-room', isPrivate: true })).body.conversation.id
    const { run } = await runWith(a, 'nosy', () => ({ actions: [{ type: 'post_message', conversation_id: secret, body_md: 'Let me in please' }] }))
    expect(run.applied).toEqual([])
    expect(run.errors[0]!.error).toMatch(/not a member/)
    expect(w.server.gateway.db.$client.prepare('SELECT count(*) FROM approvals WHERE agent_id = ?').pluck().get(a.id)).toBe(0)
  })

  it('empty scopes mean read and reply: it posts at once and reads over REST', async () => {
    const a = await agentWith('plain')
    const { run, packet } = await runWith(a, 'plain', (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'Plain agent speaking freely' }] }))
    expect(packet.inbox[0]?.conversationId).toBe(w.channelId)
    expect(run.applied).toEqual([expect.objectContaining({ type: 'post_message', result: { messageId: expect.any(String) } })])
    expect((await postsBy(a.memberId, 'Plain agent speaking freely')).length).toBe(1)
    const api = botClient(w.server.url, a.botToken)
    expect((await api.get(`/api/agent-api/messages?conversationId=${w.channelId}`)).status).toBe(200)
    expect((await api.get('/api/agent-api/conversations')).status).toBe(200)
  })

  it('* is unrestricted', async () => {
    const a = await agentWith('boss', ['*'])
    const { run } = await runWith(a, 'boss', (p) => ({ actions: [
      { type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'The boss posts without asking' },
      { type: 'react', message_id: p.triggerMessageId, emoji: '🚀' }
    ] }))
    expect(run.applied.map((x) => x.type)).toEqual(['post_message', 'react'])
    expect(run.applied.every((x) => !x.result?.approvalId)).toBe(true)
    expect((await postsBy(a.memberId, 'The boss posts without asking')).length).toBe(1)
  })

  it('without channels.read: no conversation in the packet, REST reads refused; replies still allowed', async () => {
    const a = await agentWith('mouth', ['channels.reply'])
    const { run, packet } = await runWith(a, 'mouth', (p) => ({ actions: [{ type: 'post_message', conversation_id: p.triggerConversationId, body_md: 'Speaking without reading' }] }))
    expect(packet.triggerConversationId).toBe(w.channelId)
    expect(packet.inbox).toEqual([])
    expect(packet.thread).toBeNull()
    expect(run.applied).toEqual([expect.objectContaining({ type: 'post_message' })])
    const api = botClient(w.server.url, a.botToken)
    for (const path of [`/api/agent-api/messages?conversationId=${w.channelId}`, '/api/agent-api/conversations', '/api/agent-api/thread?messageId=x', '/api/agent-api/search?q=hi']) {
      const res = await api.get(path)
      expect(res.status, path).toBe(403)
      expect(res.body.error).toBe('scope_missing')
    }
    expect((await api.get('/api/agent-api/me')).status).toBe(200)
  })

  it('request_approval and set_memory need no scope; request_approval is never itself held', async () => {
    const a = await agentWith('planner', ['tasks.write'])
    const api = botClient(w.server.url, a.botToken)
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'request_approval', scope: 'deploy', action: 'Ship it', conversation_id: w.channelId },
      { type: 'set_memory', key: 'plan', value: { step: 1 } },
      { type: 'post_message', conversation_id: w.channelId, body_md: 'Planner would like to talk' }
    ] })
    expect(res.body.ok).toBe(true)
    expect(res.body.results.map((x: { type: string }) => x.type)).toEqual(['request_approval', 'set_memory', 'post_message'])
    const [asked, , held] = res.body.results
    expect(asked.result).toEqual({ approvalId: expect.any(String) })
    expect(held.result).toMatchObject({ status: 'pending', needsScope: 'channels.reply' })
    const rows = w.server.gateway.db.$client.prepare('SELECT scope, pending_action FROM approvals WHERE agent_id = ? ORDER BY created_at').all(a.id) as Array<{ scope: string; pending_action: string | null }>
    expect(rows).toEqual([{ scope: 'deploy', pending_action: null }, { scope: 'channels.reply', pending_action: expect.stringContaining('Planner would like to talk') }])
    expect((await api.get('/api/agent-api/memory?key=plan')).body.memory).toEqual([expect.objectContaining({ value: { step: 1 } })])
    // Approving the agent's own request runs nothing: it has no held action.
    const decided = await w.ada.client.post(`/api/approvals/${asked.result.approvalId}/decide`, { decision: 'approve' })
    expect(decided.body).toEqual({ ok: true, status: 'approved' })
    await w.server.agents.queue.idle()
  })

  it("an action in an agent's own payload runs on approval, and only where the agent may act", async () => {
    const a = await agentWith('sly', ['channels.read'])
    const api = botClient(w.server.url, a.botToken)
    const secret = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'sly-secret', isPrivate: true })).body.conversation.id
    const smuggled = { type: 'post_message', conversation_id: secret, body_md: 'Smuggled through a payload' }
    const refused = await api.post('/api/agent-api/act', { action: { type: 'request_approval', scope: 'channels.reply', action: 'post_message', payload: smuggled, conversation_id: w.channelId } })
    expect(refused.body.errorDetails[0].error).toMatch(/not a member/)
    // Aimed where it may post, the card names what approving runs (seed-actions.test.ts covers the rest).
    const asked = { type: 'post_message', conversation_id: w.channelId, body_md: 'Asked for through a payload' }
    const res = await api.post('/api/agent-api/act', { action: { type: 'request_approval', scope: 'channels.reply', action: 'Post a note', payload: asked, conversation_id: w.channelId } })
    const card = (await messagesOf(w.bob.client, w.channelId)).find((m) => m.memberId === a.memberId && m.card)
    expect(card?.bodyMd).toBe('Requesting approval (channels.reply): Post a note (approving runs post_message)')
    const decided = await w.ada.client.post(`/api/approvals/${res.body.results[0].result.approvalId}/decide`, { decision: 'approve' })
    expect(decided.body).toEqual({ ok: true, status: 'approved', executed: { ok: true } })
    expect((await postsBy(a.memberId, 'Asked for through a payload')).length).toBe(1)
    await w.server.agents.queue.idle()
  })
})
