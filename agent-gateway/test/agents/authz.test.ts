import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, FakeAgent, addPerson, botClient, messagesOf, provision, say, waitFor, world, type Provisioned, type World } from './helpers.js'

// Who sees what of an agent through /api/agents and /api/approvals (docs/decisions.md "Agents"):
// a real server over a real SQLite file, an in-process webhook agent, and six callers. Private
// markers are planted in a private channel (#skunkworks) and a DM; every response body is
// searched for the markers of conversations its caller is not in.

type Persona = 'anonymous' | 'otherBot' | 'carol' | 'bob' | 'ada' | 'manny'

describe('agent and approval authz', () => {
  let w: World
  let hook: FakeAgent
  let spy: Provisioned
  let other: Provisioned
  let reader: Provisioned
  let outsider: Provisioned
  let manny: { client: Client; member: { id: string } }
  let carol: { client: Client; member: { id: string } }
  let vaultId: string
  let dmId: string
  let vaultTriggerId: string
  const runs = { team: '', vault: '', dm: '' }
  const approvalIds = { deploy: '', reader: '' }
  let clients: Record<Persona, Client>

  const sql = () => w.server.gateway.db.$client
  /** Posts, waits for the spy's run in that conversation to finish, and returns its id. */
  async function runIn(client: Client, conversationId: string, text: string) {
    const m = await say(client, conversationId, text)
    const id = await waitFor(() => sql().prepare(`SELECT id FROM agent_runs WHERE agent_id = ? AND conversation_id = ? AND status IN ('ok', 'silent', 'error')`).pluck().get(spy.id, conversationId) as string | undefined, 10_000, `spy's run in ${conversationId}`)
    await w.server.agents.queue.idle()
    return { id, messageId: m.id }
  }

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent((p) => {
      if (p.agent.handle !== 'spy') return 'HEARTBEAT_OK'
      const conv = p.triggerConversationId
      if (conv === w.channelId) {
        return { actions: [
          { type: 'post_message', conversation_id: conv, body_md: 'TEAM-REPLY-1 for everyone here' },
          { type: 'set_memory', key: 'team-note', value: 'MEMO-TEAM', scope: 'conversation' },
          { type: 'set_memory', key: 'g', value: 'MEMO-GLOBAL' }
        ] }
      }
      if (conv === vaultId) {
        return { actions: [
          { type: 'post_message', conversation_id: conv, body_md: 'PLUGH-VAULT-REPLY about the plan' },
          { type: 'set_memory', key: 'vault-note', value: 'MEMO-VAULT', scope: 'conversation' },
          { type: 'request_approval', scope: 'deploy', action: 'Ship v2 to production', payload: { version: 2 } }
        ] }
      }
      return { actions: [{ type: 'post_message', conversation_id: conv, body_md: 'DM-REPLY-ZORK just between us' }] }
    }).start()
    manny = await addPerson(w.server.url, w.ada.client, 'manny')
    carol = await addPerson(w.server.url, w.ada.client, 'carol')
    await w.ada.client.post(`/api/conversations/${w.channelId}/members`, { memberIds: [manny.member.id, carol.member.id] })
    spy = await provision(w.ada.client, {
      name: 'Spy', handle: 'spy', adapter: 'webhook', callbackUrl: hook.url, brief: 'BRIEF-SECRET-7', model: 'MODEL-SECRET-7',
      reportsTo: manny.member.id, channelIds: [w.channelId]
    })
    other = await provision(w.ada.client, { name: 'Other', handle: 'other', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId] })
    reader = await provision(w.ada.client, { name: 'Reader', handle: 'reader', adapter: 'webhook', callbackUrl: hook.url, scopes: ['channels.read'] })
    outsider = await provision(w.ada.client, { name: 'Outsider', handle: 'outsider', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId] })
    const vault = await w.bob.client.post('/api/conversations', {
      kind: 'channel', name: 'skunkworks', isPrivate: true, topic: 'TOPIC-ZEBRA', memberIds: [manny.member.id, spy.memberId, reader.memberId]
    })
    expect(vault.status).toBe(201)
    vaultId = vault.body.conversation.id
    dmId = (await w.bob.client.post('/api/conversations', { kind: 'dm', memberIds: [spy.memberId] })).body.conversation.id

    runs.team = (await runIn(w.bob.client, w.channelId, '@spy hello team')).id
    const v = await runIn(w.bob.client, vaultId, '@spy XYZZY-VAULT-BODY is the codename')
    runs.vault = v.id
    vaultTriggerId = v.messageId
    runs.dm = (await runIn(w.bob.client, dmId, 'FROBOZZ-DM-BODY psst')).id
    approvalIds.deploy = sql().prepare(`SELECT id FROM approvals WHERE agent_id = ? AND scope = 'deploy'`).pluck().get(spy.id) as string
    // A read-only agent's post becomes an approval whose payload names the private channel.
    const held = await botClient(w.server.url, reader.botToken).post('/api/agent-api/post_message', { conversationId: vaultId, bodyMd: 'READER-VAULT-POST for the team' })
    expect(held.status).toBe(200)
    approvalIds.reader = held.body.results[0].result.approvalId

    clients = {
      anonymous: new Client(w.server.url),
      otherBot: botClient(w.server.url, other.botToken),
      carol: carol.client,
      bob: w.bob.client,
      ada: w.ada.client,
      manny: manny.client
    }
  })
  afterAll(async () => {
    await hook.close()
    await w.server.close()
  })

  const vaultMarkers = () => [vaultId, 'skunkworks', 'TOPIC-ZEBRA', 'XYZZY-VAULT-BODY', 'PLUGH-VAULT-REPLY', 'MEMO-VAULT', 'READER-VAULT-POST', vaultTriggerId,
    ...(sql().prepare('SELECT id FROM messages WHERE conversation_id = ?').pluck().all(vaultId) as string[])]
  const dmMarkers = () => [dmId, 'FROBOZZ-DM-BODY', 'DM-REPLY-ZORK', ...(sql().prepare('SELECT id FROM messages WHERE conversation_id = ?').pluck().all(dmId) as string[])]
  const configMarkers = () => ['BRIEF-SECRET-7', 'MODEL-SECRET-7', hook.url]
  const stateMarkers = ['TEAM-REPLY-1', 'MEMO-TEAM', 'MEMO-GLOBAL']
  const found = (body: unknown, markers: string[]) => markers.filter((m) => JSON.stringify(body).includes(m))

  const get = (p: Persona, path: string) => clients[p].get(path)
  const routes = () => ({
    list: '/api/agents',
    detail: `/api/agents/${spy.id}`,
    teamRun: `/api/agents/${spy.id}/runs/${runs.team}`,
    vaultRun: `/api/agents/${spy.id}/runs/${runs.vault}`,
    dmRun: `/api/agents/${spy.id}/runs/${runs.dm}`,
    approvals: '/api/approvals'
  })

  it('anonymous: 401 on every route', async () => {
    for (const path of Object.values(routes())) expect((await get('anonymous', path)).status, path).toBe(401)
    expect((await clients.anonymous.post(`/api/approvals/${approvalIds.deploy}/decide`, { decision: 'approve' })).status).toBe(401)
  })

  it("another agent's bot token: 403 everywhere, nothing of the agent in the body", async () => {
    const bodies: unknown[] = []
    for (const path of Object.values(routes())) {
      const res = await get('otherBot', path)
      expect(res.status, path).toBe(403)
      expect(res.body.error).toBe('people_only')
      bodies.push(res.body)
    }
    for (const [method, path] of [['POST', `/api/approvals/${approvalIds.deploy}/decide`], ['PATCH', `/api/agents/${spy.id}`], ['POST', `/api/agents/${spy.id}/rotate-token`], ['POST', `/api/agents/${spy.id}/test`]] as const) {
      const res = await clients.otherBot.request(method, path, method === 'PATCH' ? { brief: 'x' } : { decision: 'approve' })
      expect(res.status, path).toBe(403)
      bodies.push(res.body)
    }
    expect(found(bodies, [...vaultMarkers(), ...dmMarkers(), ...configMarkers(), ...stateMarkers, spy.memberId])).toEqual([])
  })

  it('a member outside the private channel (carol): the agent as a member, run times only, no approvals of it', async () => {
    const r = routes()
    const list = await get('carol', r.list)
    expect(list.status).toBe(200)
    const listed = list.body.agents.find((a: { id: string }) => a.id === spy.id)
    expect(listed).toMatchObject({ handle: 'spy', canManage: false })
    for (const k of ['callbackUrl', 'brief', 'model', 'scopes', 'lastError']) expect(listed, k).not.toHaveProperty(k)

    const detail = await get('carol', r.detail)
    expect(detail.status).toBe(200)
    expect(detail.body.memory).toEqual([])
    const byId = new Map(detail.body.runs.map((x: { id: string }) => [x.id, x]))
    for (const id of Object.values(runs)) expect(byId.get(id)).toMatchObject({ packet: null, reply: null, applied: null, errors: null, trace: null, redacted: true })
    expect(byId.get(runs.team)).toMatchObject({ conversationId: w.channelId })
    expect(byId.get(runs.vault)).toMatchObject({ conversationId: null, messageId: null })
    expect(byId.get(runs.dm)).toMatchObject({ conversationId: null, messageId: null })
    for (const path of [r.teamRun, r.vaultRun, r.dmRun]) {
      const res = await get('carol', path)
      expect(res.status, path).toBe(200)
      expect(res.body.run).toMatchObject({ packet: null, reply: null, redacted: true })
    }
    const approvals = await get('carol', r.approvals)
    expect(approvals.status).toBe(200)
    expect(approvals.body.approvals.map((a: { id: string }) => a.id)).not.toEqual(expect.arrayContaining([approvalIds.deploy]))
    expect(approvals.body.approvals.map((a: { id: string }) => a.id)).not.toContain(approvalIds.reader)
    const all = [list.body, detail.body, approvals.body, ...(await Promise.all([r.teamRun, r.vaultRun, r.dmRun].map((p) => get('carol', p)))).map((x) => x.body)]
    expect(found(all, [...vaultMarkers(), ...dmMarkers(), ...configMarkers(), ...stateMarkers, 'Ship v2'])).toEqual([])
    expect((await clients.carol.post(`/api/approvals/${approvalIds.deploy}/decide`, { decision: 'approve' })).status).toBe(403)
  })

  it('a non-admin member of every conversation (bob): no packets, replies, memory or wiring; approvals of his conversations, undecidable', async () => {
    const r = routes()
    const listed = (await get('bob', r.list)).body.agents.find((a: { id: string }) => a.id === spy.id)
    expect(listed).not.toHaveProperty('brief')
    const detail = await get('bob', r.detail)
    expect(detail.body.memory).toEqual([])
    const byId = new Map(detail.body.runs.map((x: { id: string }) => [x.id, x]))
    expect(byId.get(runs.vault)).toMatchObject({ conversationId: vaultId, packet: null, reply: null, redacted: true })
    expect(byId.get(runs.dm)).toMatchObject({ conversationId: dmId, packet: null, reply: null, redacted: true })
    expect((await get('bob', r.vaultRun)).body.run).toMatchObject({ packet: null, reply: null })
    const approvals = (await get('bob', r.approvals)).body.approvals as Array<Record<string, unknown>>
    expect(approvals.find((a) => a.id === approvalIds.deploy)).toMatchObject({ conversationId: vaultId, payload: { version: 2 }, canDecide: false, redacted: false })
    expect(approvals.find((a) => a.id === approvalIds.reader)).toMatchObject({ conversationId: vaultId, scope: 'channels.reply', canDecide: false })
    expect(found([listed, detail.body], [...configMarkers(), ...stateMarkers, 'PLUGH-VAULT-REPLY', 'MEMO-VAULT', 'DM-REPLY-ZORK'])).toEqual([])
    expect((await clients.bob.post(`/api/approvals/${approvalIds.deploy}/decide`, { decision: 'approve' })).status).toBe(403)
  })

  it('an admin outside the private channel and the DM (ada): manages the agent, reads nothing of those two through it', async () => {
    const r = routes()
    const list = await get('ada', r.list)
    expect(list.body.agents.find((a: { id: string }) => a.id === spy.id)).toMatchObject({ brief: 'BRIEF-SECRET-7', model: 'MODEL-SECRET-7', callbackUrl: hook.url, scopes: [], canManage: true })
    const detail = await get('ada', r.detail)
    const byId = new Map(detail.body.runs.map((x: { id: string }) => [x.id, x])) as Map<string, Record<string, any>>
    expect(byId.get(runs.team)).toMatchObject({ redacted: false, conversationId: w.channelId })
    expect(byId.get(runs.team)!.packet.inbox[0].conversationId).toBe(w.channelId)
    expect(byId.get(runs.team)!.reply).toContain('TEAM-REPLY-1')
    expect(byId.get(runs.vault)).toMatchObject({ redacted: true, conversationId: null, messageId: null, packet: null, reply: null })
    expect(byId.get(runs.dm)).toMatchObject({ redacted: true, conversationId: null, packet: null })
    expect(detail.body.memory.map((m: { value: unknown }) => m.value).sort()).toEqual(['MEMO-GLOBAL', 'MEMO-TEAM'])
    expect((await get('ada', r.teamRun)).body.run.packet).not.toBeNull()
    expect((await get('ada', r.vaultRun)).body.run).toMatchObject({ packet: null, redacted: true })
    expect((await get('ada', r.dmRun)).body.run).toMatchObject({ packet: null, redacted: true })
    // She may decide both approvals: she sees what is asked, not where, and no payload naming the channel.
    const approvals = (await get('ada', r.approvals)).body.approvals as Array<Record<string, unknown>>
    expect(approvals.find((a) => a.id === approvalIds.deploy)).toMatchObject({ conversationId: null, messageId: null, action: 'Ship v2 to production', payload: { version: 2 }, canDecide: true })
    expect(approvals.find((a) => a.id === approvalIds.reader)).toMatchObject({ conversationId: null, messageId: null, scope: 'channels.reply', payload: null, canDecide: true, redacted: true })
    const all = [list.body, detail.body, approvals, ...(await Promise.all([r.teamRun, r.vaultRun, r.dmRun].map((p) => get('ada', p)))).map((x) => x.body)]
    expect(found(all, [...vaultMarkers(), ...dmMarkers()])).toEqual([])
  })

  it("the agent's manager (manny, in the private channel, not the DM): everything but the DM", async () => {
    const r = routes()
    const agents = (await get('manny', r.list)).body.agents as Array<Record<string, unknown>>
    expect(agents.find((a) => a.id === spy.id)).toMatchObject({ brief: 'BRIEF-SECRET-7', canManage: true })
    expect(agents.find((a) => a.id === other.id)).not.toHaveProperty('brief')
    const detail = await get('manny', r.detail)
    const byId = new Map(detail.body.runs.map((x: { id: string }) => [x.id, x])) as Map<string, Record<string, any>>
    expect(byId.get(runs.vault)).toMatchObject({ redacted: false, conversationId: vaultId })
    expect(JSON.stringify(byId.get(runs.vault)!.packet)).toContain('XYZZY-VAULT-BODY')
    expect(byId.get(runs.dm)).toMatchObject({ redacted: true, conversationId: null, packet: null })
    expect(detail.body.memory.map((m: { value: unknown }) => m.value).sort()).toEqual(['MEMO-GLOBAL', 'MEMO-TEAM', 'MEMO-VAULT'])
    expect((await get('manny', r.dmRun)).body.run).toMatchObject({ packet: null, redacted: true })
    const approvals = (await get('manny', r.approvals)).body.approvals as Array<Record<string, unknown>>
    expect(approvals.find((a) => a.id === approvalIds.deploy)).toMatchObject({ conversationId: vaultId, canDecide: true })
    expect(approvals.find((a) => a.id === approvalIds.reader)).toMatchObject({ conversationId: vaultId, canDecide: false })
    expect(found([agents, detail.body, approvals], dmMarkers())).toEqual([])
  })

  it('membership is checked when used: after leaving the channel the manager no longer reads it', async () => {
    expect((await manny.client.post(`/api/conversations/${vaultId}/leave`)).status).toBe(200)
    const detail = await get('manny', routes().detail)
    const vaultRun = detail.body.runs.find((x: { id: string }) => x.id === runs.vault)
    expect(vaultRun).toMatchObject({ redacted: true, conversationId: null, packet: null })
    expect(detail.body.memory.map((m: { value: unknown }) => m.value).sort()).toEqual(['MEMO-GLOBAL', 'MEMO-TEAM'])
    const approvals = (await get('manny', '/api/approvals')).body.approvals as Array<Record<string, unknown>>
    expect(approvals.find((a) => a.id === approvalIds.deploy)).toMatchObject({ conversationId: null, canDecide: true })
    expect(approvals.find((a) => a.id === approvalIds.reader)).toBeUndefined()
    expect(found([detail.body, approvals], [...vaultMarkers(), ...dmMarkers()])).toEqual([])
  })

  it("an agent's packet lists only approvals of its own or of its conversations", async () => {
    const before = hook.packets.length
    await say(w.bob.client, w.channelId, '@outsider anything pending?')
    const p = await waitFor(() => hook.packets.slice(before).find((x) => x.packet.agent.handle === 'outsider'), 10_000, "outsider's packet")
    expect(p.packet.openApprovals.map((a) => a.id)).not.toEqual(expect.arrayContaining([approvalIds.deploy]))
    expect(found(p.packet, vaultMarkers())).toEqual([])
    const spyDm = hook.packets.find((x) => x.packet.runId === runs.dm)!
    expect(spyDm.packet.openApprovals.map((a) => a.id)).toContain(approvalIds.deploy)
    await w.server.agents.queue.idle()
  })

  it('deciders decide without learning where: the manager denies, the admin approves the held post', async () => {
    const denied = await manny.client.post(`/api/approvals/${approvalIds.deploy}/decide`, { decision: 'deny' })
    expect(denied.body).toEqual({ ok: true, status: 'denied' })
    const approved = await w.ada.client.post(`/api/approvals/${approvalIds.reader}/decide`, { decision: 'approve' })
    expect(approved.status).toBe(200)
    expect(approved.body).toEqual({ ok: true, status: 'approved', executed: { ok: true } })
    expect(found(approved.body, vaultMarkers())).toEqual([])
    const posted = (await messagesOf(w.bob.client, vaultId)).filter((m) => m.bodyMd === 'READER-VAULT-POST for the team')
    expect(posted.map((m) => m.memberId)).toEqual([reader.memberId])
    await w.server.agents.queue.idle()
  })
})
