import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentPacket } from '@circlechat/protocol'
import { docName, listMessages } from '@circlechat/model'
import { FakeAgent, agentInfo, botClient, messagesOf, provision, say, startTestServer, waitFor, world, type Provisioned, type World } from './helpers.js'

// The executor, approvals, memory, the agent REST API, token rotation and SSRF, with an
// in-process webhook agent on loopback whose replies each test chooses.

describe('agent actions', () => {
  let w: World
  let agent: FakeAgent
  let bot: Provisioned
  let secretId: string
  let foreignChannelId: string
  let foreignMessageId: string

  beforeAll(async () => {
    w = await world()
    agent = await new FakeAgent().start()
    bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', callbackUrl: agent.url, channelIds: [w.channelId], reportsTo: w.ada.member.id })
    secretId = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'secret' })).body.conversation.id
    // Another workspace on the same server (signup is closed after the first, so rows go in
    // directly). The bot is even listed as a member of its channel: the workspace check must win.
    const sql = w.server.gateway.db.$client
    const now = Date.now()
    foreignChannelId = 'c_foreign'
    foreignMessageId = 'msg_foreign'
    sql.prepare('INSERT INTO workspaces (id, name, handle, created_at) VALUES (?, ?, ?, ?)').run('w_other', 'Other', 'other', now)
    sql.prepare('INSERT INTO conversations (id, workspace_id, kind, name, topic, is_private, created_by, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)').run(foreignChannelId, 'w_other', 'channel', 'theirs', '', 'm_x', now)
    sql.prepare('INSERT INTO conversation_members (conversation_id, member_id, joined_at) VALUES (?, ?, ?)').run(foreignChannelId, bot.memberId, now)
    sql.prepare(`INSERT INTO messages (id, conversation_id, doc, author, created_at, body, mentions, attachments, reactions) VALUES (?, ?, ?, ?, ?, ?, '[]', '[]', '[]')`).run(foreignMessageId, foreignChannelId, `conv:${foreignChannelId}:0`, 'm_x', now, 'theirs')
  })
  afterAll(async () => {
    await agent.close()
    await w.server.close()
  })

  /** Mentions the bot, answers with `reply`, and returns the finished run. */
  async function runWith(reply: (p: AgentPacket) => unknown, text = `@bot go ${Math.random().toString(36).slice(2)}`) {
    const before = agent.packets.length
    agent.handler = reply
    await say(w.bob.client, w.channelId, text)
    await waitFor(() => agent.packets.length > before, 10_000, 'the packet')
    await w.server.agents.queue.idle()
    const info = await agentInfo(w.ada.client, bot.id)
    return { run: info.runs[0]!, packet: agent.packets.at(-1)!.packet, info }
  }

  it('applies post_message, react, open_thread and set_memory as the agent', async () => {
    // A task of the bot's, for task memory: assigning it wakes the bot once first.
    const before = agent.packets.length
    const task = (await w.ada.client.post('/api/tasks', { conversationId: w.channelId, title: 'Plan the launch', assignees: [bot.memberId] })).body.task as { id: string }
    await waitFor(() => agent.packets.slice(before).find((p) => p.packet.trigger === 'task_assigned'), 10_000, 'task_assigned')
    await w.server.agents.queue.idle()
    let trigger = ''
    const { run } = await runWith((p) => {
      trigger = p.triggerMessageId!
      return {
        actions: [
          { type: 'post_message', conversation_id: w.channelId, body_md: 'Posting a fresh update for the team' },
          { type: 'react', message_id: p.triggerMessageId, emoji: '👍' },
          { type: 'open_thread', message_id: p.triggerMessageId, body_md: 'Starting a thread about this one' },
          { type: 'set_memory', key: 'mood', value: { happy: true } },
          { type: 'set_memory', key: 'topic', value: 'launch', scope: 'conversation' },
          { type: 'set_memory', key: 'step', value: 2, scope: 'task', scope_id: task.id }
        ]
      }
    })
    expect(run.status).toBe('ok')
    expect(run.errors).toEqual([])
    expect(run.applied.map((a) => a.type)).toEqual(['post_message', 'react', 'open_thread', 'set_memory', 'set_memory', 'set_memory'])
    const msgs = await messagesOf(w.bob.client, w.channelId)
    expect(msgs.find((m) => m.bodyMd === 'Posting a fresh update for the team')?.memberId).toBe(bot.memberId)
    expect(msgs.find((m) => m.id === trigger)?.reactions).toEqual([expect.objectContaining({ emoji: '👍', memberId: bot.memberId })])
    const thread = await messagesOf(w.bob.client, w.channelId, trigger)
    expect(thread.map((m) => [m.memberId, m.bodyMd])).toEqual([[bot.memberId, 'Starting a thread about this one']])

    // Memory comes back in the next packet, in its three scopes.
    const next = await runWith(() => 'HEARTBEAT_OK')
    expect(next.packet.memory.global).toEqual({ mood: { happy: true } })
    expect(next.packet.memory.byConversation[w.channelId]).toEqual({ topic: 'launch' })
    expect(next.packet.memory.byTask).toEqual({ [task.id]: { step: 2 } })
    expect(next.run.status).toBe('silent')
  })

  it('prunes long memory values in packets', async () => {
    await runWith(() => ({ actions: [{ type: 'set_memory', key: 'long', value: 'x'.repeat(5000) }] }))
    const { packet } = await runWith(() => 'HEARTBEAT_OK')
    const long = packet.memory.global.long as string
    expect(long.length).toBeLessThan(2100)
    expect(long.endsWith('…')).toBe(true)
    // And over 8 KB is refused outright.
    const { run } = await runWith(() => ({ actions: [{ type: 'set_memory', key: 'huge', value: 'y'.repeat(9000) }] }))
    expect(run.errors[0]!.error).toMatch(/limited to/)
  })

  it('refuses each bad action for its reason and applies the rest; lastRun reports them', async () => {
    const { run: shown } = await runWith(() => ({
      actions: [
        { type: 'post_message', conversation_id: secretId, body_md: 'Sneaking into a private channel' },
        { type: 'post_message', conversation_id: foreignChannelId, body_md: 'Hello from across the fence' },
        { type: 'react', message_id: foreignMessageId, emoji: '👀' },
        { type: 'post_message', conversation_id: w.channelId, body_md: 'Reply posted successfully.' },
        { type: 'launch_rockets', target: 'moon' },
        { type: 'create_task', title: 'Write the report', conversation_id: secretId },
        { type: 'task_comment', task_id: 'task_1', body_md: 'Done' },
        { type: 'share_files', conversation_id: w.channelId, files: [{ path: '/etc/passwd' }] },
        { type: 'post_message', conversation_id: w.channelId, body_md: 'This one is fine and should land' }
      ]
    }))
    // The reply names a conversation of another workspace, which ada is not in: her view of the
    // run is withheld (docs/decisions.md "Agents"), so read the audit row itself.
    expect(shown).toMatchObject({ redacted: true, applied: null, errors: null })
    const row = w.server.gateway.db.$client.prepare('SELECT id, status, applied, errors FROM agent_runs WHERE id = ?').get(shown.id) as { id: string; status: string; applied: string; errors: string }
    const run = { ...row, applied: JSON.parse(row.applied) as typeof shown.applied, errors: JSON.parse(row.errors) as typeof shown.errors }
    expect(run.status).toBe('ok')
    expect(run.applied.map((a) => [a.index, a.type])).toEqual([[8, 'post_message']])
    const byIndex = Object.fromEntries(run.errors.map((e) => [e.index, e.error]))
    expect(byIndex[0]).toMatch(/not a member/)
    expect(byIndex[1]).toMatch(/does not exist in this workspace/)
    expect(byIndex[2]).toMatch(/does not exist in this workspace/)
    expect(byIndex[3]).toMatch(/reply-guard/)
    expect(byIndex[4]).toBeDefined()
    expect(byIndex[5]).toMatch(/not a member/)
    expect(byIndex[6]).toMatch(/task task_1 does not exist/)
    expect(byIndex[7]).toMatch(/AGENT_SHARE_DIR is not set/)
    expect(await messagesOf(w.ada.client, secretId)).toEqual([])
    // The next packet tells the agent what went wrong.
    const { packet } = await runWith(() => 'HEARTBEAT_OK')
    expect(packet.lastRun?.runId).toBe(run.id)
    expect(packet.lastRun?.errors.length).toBe(8)
  })

  it('takes plain text with an <actions> block; leftover prose is a message to the trigger conversation', async () => {
    const { run } = await runWith((p) => `Here is what I found about the rollout.\n<actions>[{"type":"react","message_id":"${p.triggerMessageId}","emoji":"🎉"}]</actions>`)
    expect(run.status).toBe('ok')
    expect(run.applied.map((a) => a.type).sort()).toEqual(['post_message', 'react'])
    const msgs = await messagesOf(w.bob.client, w.channelId)
    expect(msgs.find((m) => m.memberId === bot.memberId && m.bodyMd.includes('what I found about the rollout'))).toBeDefined()
  })

  it('approvals: card message, only admins or the manager decide, the decision wakes the agent', async () => {
    const { run } = await runWith(() => ({ actions: [{ type: 'request_approval', scope: 'deploy', action: 'Ship v2 to production', payload: { version: 2 } }] }))
    const approvalId = run.applied[0]!.result.approvalId as string
    // The card is in the conversation document (what clients render) and in REST listings.
    const doc = await w.server.gateway.sync.getDoc(docName.conv(w.channelId, 0))
    const card = listMessages(doc).find((m) => m.author === bot.memberId && m.card)
    expect(card?.card).toEqual({ kind: 'approval', approvalId, status: 'pending' })
    expect(card?.body).toContain('Ship v2 to production')
    expect((await messagesOf(w.bob.client, w.channelId)).find((m) => m.id === card!.id)?.card).toEqual({ kind: 'approval', approvalId, status: 'pending' })
    const listed = await w.bob.client.get('/api/approvals')
    expect(listed.body.approvals.find((a: { id: string }) => a.id === approvalId)).toMatchObject({ status: 'pending', scope: 'deploy', canDecide: false })
    // Bob is neither admin nor the agent's manager.
    expect((await w.bob.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve' })).status).toBe(403)
    const before = agent.packets.length
    agent.handler = () => 'HEARTBEAT_OK'
    const ok = await w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'approve', note: 'go ahead' })
    expect(ok.body).toEqual({ ok: true, status: 'approved' })
    const woke = await waitFor(() => agent.packets.slice(before).find((p) => p.packet.trigger === 'approval_response'), 10_000, 'approval_response')
    expect(woke.packet.approvalResponse).toEqual({ id: approvalId, scope: 'deploy', action: 'Ship v2 to production', status: 'approved', note: 'go ahead', decidedByHandle: 'ada', payload: { version: 2 }, executed: null })
    expect((await w.ada.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'deny' })).status).toBe(409)
    await waitFor(() => listMessages(doc).find((m) => m.id === card!.id && m.card?.status === 'approved'), 5000, 'card updated')
    expect((await messagesOf(w.bob.client, w.channelId)).find((m) => m.id === card!.id)?.card).toEqual({ kind: 'approval', approvalId, status: 'approved' })
    await w.server.agents.queue.idle()
  })

  it('approvals: the agent\'s manager decides even without being admin', async () => {
    const mgd = await provision(w.ada.client, { name: 'Managed', handle: 'managed', adapter: 'webhook', callbackUrl: agent.url, channelIds: [w.channelId], reportsTo: w.bob.member.id })
    const api = botClient(w.server.url, mgd.botToken)
    const res = await api.post('/api/agent-api/act', { action: { type: 'request_approval', scope: 'spend', action: 'Buy a license', conversation_id: w.channelId } })
    expect(res.body.ok).toBe(true)
    const approvalId = res.body.results[0].result.approvalId
    const decided = await w.bob.client.post(`/api/approvals/${approvalId}/decide`, { decision: 'deny', note: 'too pricey' })
    expect(decided.body.status).toBe('denied')
    await waitFor(() => agent.packets.find((p) => p.packet.trigger === 'approval_response' && p.packet.approvalResponse?.id === approvalId), 10_000, 'denial delivered')
    await w.server.agents.queue.idle()
  })

  it('refuses to post or react in an archived channel, and posts again once it is unarchived', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const { id } = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'mothballed', memberIds: [bot.memberId] })).body.conversation
    const messageId = (await say(w.ada.client, id, 'the last word')).id
    expect((await w.ada.client.post(`/api/conversations/${id}/archive`)).status).toBe(200)
    const act = await api.post('/api/agent-api/act', { actions: [
      { type: 'post_message', conversation_id: id, body_md: 'Anyone here?' },
      { type: 'react', message_id: messageId, emoji: '👋' }
    ] })
    expect(act.body).toMatchObject({ ok: false, applied: 0 })
    expect(act.body.errors).toEqual([expect.stringContaining('archived'), expect.stringContaining('archived')])
    expect((await w.ada.client.post(`/api/conversations/${id}/unarchive`)).status).toBe(200)
    expect((await api.post('/api/agent-api/post_message', { conversationId: id, bodyMd: 'Back again' })).status).toBe(200)
  })

  it('agent REST API: me, act, post_message, react, start_dm, members, memory, usage', async () => {
    const api = botClient(w.server.url, bot.botToken)
    const me = await api.get('/api/agent-api/me')
    expect(me.body).toEqual({ agentId: bot.id, memberId: bot.memberId, workspaceId: w.ada.workspace.id, handle: 'bot' })
    // A person's cookie is not an agent credential.
    expect((await w.ada.client.get('/api/agent-api/me')).status).toBe(403)

    const posted = await api.post('/api/agent-api/post_message', { conversationId: w.channelId, bodyMd: 'Hello from the REST side of things' })
    expect(posted.status).toBe(200)
    const messageId = posted.body.results[0].result.messageId
    expect((await api.post('/api/agent-api/post_message', { conversationId: secretId, bodyMd: 'Not allowed in here though' })).status).toBe(400)
    expect((await api.post('/api/agent-api/react', { messageId, emoji: '✅' })).status).toBe(200)
    const act = await api.post('/api/agent-api/act', { actions: [{ type: 'react', message_id: messageId, emoji: '🚀' }, { type: 'nope' }] })
    expect(act.body.ok).toBe(false)
    expect(act.body).toMatchObject({ applied: 1, errors: [expect.stringMatching(/^nope: /)], trace: ['react'] })
    expect(act.body.results.length).toBe(1)
    expect(act.body.errorDetails.length).toBe(1)

    const dm = await api.post('/api/agent-api/start_dm', { otherMemberId: w.bob.member.id })
    expect(dm.body.conversationId).toMatch(/^c/)
    const convs = await api.get('/api/agent-api/conversations')
    expect(convs.body.conversations.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([w.channelId, dm.body.conversationId]))
    const members = await api.get('/api/agent-api/members')
    expect(members.body.humans.map((m: { handle: string }) => m.handle).sort()).toEqual(['ada', 'bob'])
    expect(members.body.agents.map((m: { handle: string }) => m.handle)).toContain('bot')
    const list = await api.get(`/api/agent-api/messages?conversationId=${w.channelId}&limit=5`)
    expect(list.body.messages.length).toBe(5)

    expect((await api.post('/api/agent-api/memory', { key: 'k1', value: [1, 2] })).status).toBe(200)
    expect((await api.get('/api/agent-api/memory?key=k1')).body.memory).toEqual([expect.objectContaining({ scope: 'global', key: 'k1', value: [1, 2] })])
    expect((await api.delete('/api/agent-api/memory?key=k1')).body).toEqual({ ok: true })
    expect((await api.get('/api/agent-api/memory?key=k1')).body.memory).toEqual([])

    const runId = (await agentInfo(w.ada.client, bot.id)).runs[0]!.id
    expect((await api.post(`/api/agent-api/runs/${runId}/usage`, { provider: 'x', model: 'y', inputTokens: 1000, outputTokens: 100, costUsd: 0.5 })).body).toEqual({ ok: true })
    expect((await agentInfo(w.ada.client, bot.id)).runs[0]).toMatchObject({ id: runId, costUsd: 0.5, usage: expect.objectContaining({ inputTokens: 1000 }) })
    expect((await api.post('/api/agent-api/runs/run_nope/usage', { inputTokens: 1, outputTokens: 1 })).status).toBe(404)
    expect((await api.get('/api/agent-api/tasks')).status).toBe(200)
  })

  it('rotating the token retires the old one', async () => {
    const old = botClient(w.server.url, bot.botToken)
    expect((await old.get('/api/agent-api/me')).status).toBe(200)
    expect((await w.bob.client.post(`/api/agents/${bot.id}/rotate-token`)).status).toBe(403)
    const rotated = await w.ada.client.post(`/api/agents/${bot.id}/rotate-token`)
    expect(rotated.body.botToken).toMatch(/^cc_/)
    expect((await old.get('/api/agent-api/me')).status).toBe(401)
    expect((await botClient(w.server.url, rotated.body.botToken).get('/api/agent-api/me')).status).toBe(200)
    // Packets are now signed with the new token.
    const { run } = await runWith((p) => ({ actions: [{ type: 'react', message_id: p.triggerMessageId, emoji: '🔑' }] }))
    expect(run.status).toBe('ok')
    expect(agent.packets.at(-1)!.packet.agent.id).toBe(bot.id)
    bot.botToken = rotated.body.botToken
  })

  it('rotating a socket agent\'s token closes its open socket and its sync connections', async () => {
    const { default: WebSocket } = await import('ws')
    const s = await provision(w.ada.client, { name: 'Sockrot', handle: 'sockrot', adapter: 'socket', channelIds: [w.channelId] })
    const ws = new WebSocket(`${w.server.url.replace('http', 'ws')}/agent-socket`, { headers: { authorization: `Bearer ${s.botToken}` } })
    await new Promise((r) => ws.once('message', r))
    const sync = new WebSocket(`${w.server.url.replace('http', 'ws')}/sync/${docName.conv(w.channelId, 0)}`, { headers: { authorization: `Bearer ${s.botToken}` } })
    await new Promise((r) => sync.once('open', r))
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    const syncClosed = new Promise<number>((r) => sync.once('close', (code) => r(code)))
    await w.ada.client.post(`/api/agents/${s.id}/rotate-token`)
    expect(await closed).toBe(4401)
    expect(await syncClosed).toBeGreaterThanOrEqual(4000)
  })

  it('every packet the agent received validated against the contract schema', () => {
    expect(agent.invalid).toEqual([])
    expect(agent.packets.length).toBeGreaterThan(5)
    expect(new Set(agent.packets.map((p) => p.path))).toEqual(new Set(['/event']))
  })
})

describe('SSRF', () => {
  it('refuses loopback and private callbacks unless private URLs are allowed', async () => {
    const server = await startTestServer({ agentAllowPrivateUrls: false })
    try {
      const { signupAdmin } = await import('./helpers.js')
      const ada = await signupAdmin(server.url)
      for (const callbackUrl of ['http://127.0.0.1:8787', 'http://10.1.2.3/', 'http://169.254.169.254/latest', 'http://[::1]:80/', 'http://localhost:9/', 'file:///etc/passwd', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:169.254.169.254]/', 'http://[64:ff9b::a00:1]/']) {
        const res = await ada.client.post('/api/agents', { name: 'Evil', handle: 'evil', adapter: 'webhook', callbackUrl })
        expect(res.status, callbackUrl).toBe(400)
      }
      // PATCHing a private callback onto an existing agent is refused the same way.
      const ok = await ada.client.post('/api/agents', { name: 'Sock', handle: 'sock', adapter: 'socket' })
      expect((await ada.client.patch(`/api/agents/${ok.body.id}`, { callbackUrl: 'http://127.0.0.1:1/' })).status).toBe(400)
    } finally {
      await server.close()
    }
  })
})
