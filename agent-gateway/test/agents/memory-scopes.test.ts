import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_MEMORY_VALUE_BYTES } from '../../src/agents/memory.js'
import { FakeAgent, addPerson, botClient, provision, say, waitFor, world, type Client, type Provisioned, type World } from './helpers.js'

// Agent memory in its three scopes (global, per conversation, per task) as agents write and read
// it, and as admins see and edit it on the agent's page: each scope only to those who can read
// where it belongs (docs/decisions.md "Agents").

interface Entry { scope: string; scopeId: string; scopeName: string | null; key: string; value: unknown }

describe('memory scopes', () => {
  let w: World
  let hook: FakeAgent
  let bot: Provisioned
  let api: Client
  let cy: { client: Client; member: { id: string } }
  let vaultId: string
  let teamTask: string
  let vaultTask: string
  let boardTask: string

  const page = async (client: Client) => {
    const res = await client.get(`/api/agents/${bot.id}`)
    expect(res.status).toBe(200)
    return res.body.memory as Entry[]
  }
  const keys = (list: Entry[]) => list.map((m) => m.key).sort()
  const remember = async (body: Record<string, unknown>) => {
    const res = await api.post('/api/agent-api/memory', body)
    expect(res.status).toBe(200)
    return res.body as { ok: boolean; errors: string[] }
  }

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent().start()
    cy = await addPerson(w.server.url, w.ada.client, 'cy')
    // Bob manages the agent but is no admin; #vault is his and the agent's, not Ada's.
    bot = await provision(w.ada.client, { name: 'Keeper', handle: 'keeper', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], reportsTo: w.bob.member.id, heartbeatIntervalSec: 86400 })
    api = botClient(w.server.url, bot.botToken)
    vaultId = (await w.bob.client.post('/api/conversations', { kind: 'channel', name: 'vault', isPrivate: true, memberIds: [bot.memberId] })).body.conversation.id
    teamTask = (await w.ada.client.post('/api/tasks', { conversationId: w.channelId, title: 'Ship the launch post', assignees: [bot.memberId] })).body.task.id
    vaultTask = (await w.bob.client.post('/api/tasks', { conversationId: vaultId, title: 'Rotate the vault keys' })).body.task.id
    boardTask = (await w.ada.client.post('/api/tasks', { title: 'Workspace-wide cleanup' })).body.task?.id
    expect([teamTask, vaultTask]).toEqual([expect.stringMatching(/^task_/), expect.stringMatching(/^task_/)])
  })
  afterAll(async () => {
    await w.server.close()
    await hook.close()
  })

  it('an agent writes each scope where it can reach, and nowhere else', async () => {
    expect(await remember({ key: 'tone', value: 'brief' })).toMatchObject({ ok: true })
    expect(await remember({ key: 'team-plan', value: { step: 1 }, scope: 'conversation', scopeId: w.channelId })).toMatchObject({ ok: true })
    expect(await remember({ key: 'vault-note', value: 'VAULT-SECRET', scope: 'conversation', scopeId: vaultId })).toMatchObject({ ok: true })
    expect(await remember({ key: 'launch-step', value: 3, scope: 'task', scopeId: teamTask })).toMatchObject({ ok: true })
    expect(await remember({ key: 'keys-left', value: 2, scope: 'task', scopeId: vaultTask })).toMatchObject({ ok: true })
    if (boardTask) expect(await remember({ key: 'cleanup', value: 'half', scope: 'task', scopeId: boardTask })).toMatchObject({ ok: true })
    // A channel it is not in, a task on such a channel's board, a task that does not exist.
    const elsewhere = (await cy.client.post('/api/conversations', { kind: 'channel', name: 'elsewhere', isPrivate: true })).body.conversation.id
    const hidden = (await cy.client.post('/api/tasks', { conversationId: elsewhere, title: 'Not for the agent' })).body.task.id
    const refused = async (body: Record<string, unknown>) => {
      const res = await api.post('/api/agent-api/memory', { key: 'x', value: 1, ...body })
      expect(res.body.error).toBe('action_refused')
      return res.body.message as string
    }
    expect(await refused({ scope: 'conversation', scopeId: elsewhere })).toMatch(/not a member/)
    expect(await refused({ scope: 'task', scopeId: hidden })).toMatch(/cannot see/)
    expect(await refused({ scope: 'task', scopeId: 'task_nope' })).toMatch(/does not exist/)
    // Through a reply's actions as well: refused one by one, recorded on the run.
    const before = hook.packets.length
    hook.handler = (p) => (p.trigger === 'mention' ? { actions: [{ type: 'set_memory', key: 'y', value: 1, scope: 'conversation', scope_id: elsewhere }, { type: 'set_memory', key: 'seen', value: true, scope: 'conversation' }] } : 'HEARTBEAT_OK')
    await say(w.bob.client, w.channelId, '@keeper note that')
    await waitFor(() => hook.packets.length > before, 10_000, 'the packet')
    await w.server.agents.queue.idle()
    hook.handler = () => 'HEARTBEAT_OK'
    expect((await api.get(`/api/agent-api/memory?scope=conversation&scopeId=${w.channelId}&key=seen`)).body.memory).toEqual([expect.objectContaining({ value: true })])
    expect((await api.get('/api/agent-api/memory?key=y')).body.memory).toEqual([])
    const mine = (await api.get('/api/agent-api/memory')).body.memory as Entry[]
    expect(keys(mine)).toEqual(['keys-left', 'launch-step', 'seen', 'team-plan', 'tone', 'vault-note', ...(boardTask ? ['cleanup'] : [])].sort())
    expect((await api.get(`/api/agent-api/memory?scope=task&scopeId=${teamTask}`)).body.memory).toEqual([expect.objectContaining({ key: 'launch-step', value: 3 })])
  })

  it("a packet carries global memory, the trigger conversation's, and its open tasks'", async () => {
    const before = hook.packets.length
    await w.server.agents.queue.idle()
    await say(w.bob.client, w.channelId, '@keeper where are we?')
    const { packet } = await waitFor(() => hook.packets.slice(before).find((p) => p.packet.trigger === 'mention'), 10_000, 'the mention packet')
    expect(packet.memory.global).toEqual({ tone: 'brief' })
    expect(packet.memory.byConversation).toEqual({ [w.channelId]: { 'team-plan': { step: 1 }, seen: true } })
    expect(packet.memory.byTask[teamTask]).toEqual({ 'launch-step': 3 })
    expect(packet.memory.byTask).not.toHaveProperty(vaultTask)
    await w.server.agents.queue.idle()
  })

  it('the agent page names each scope and shows only what the caller can read', async () => {
    // Ada, an admin outside #vault: neither the vault's memory nor its task's.
    const ada = await page(w.ada.client)
    expect(keys(ada)).toEqual(['launch-step', 'seen', 'team-plan', 'tone', ...(boardTask ? ['cleanup'] : [])].sort())
    expect(ada.find((m) => m.key === 'team-plan')).toMatchObject({ scope: 'conversation', scopeId: w.channelId, scopeName: '#team' })
    expect(ada.find((m) => m.key === 'launch-step')).toMatchObject({ scope: 'task', scopeId: teamTask, scopeName: 'Ship the launch post' })
    expect(ada.find((m) => m.key === 'tone')).toMatchObject({ scope: 'global', scopeId: '', scopeName: null })
    expect(JSON.stringify(ada)).not.toMatch(/VAULT|vault|Rotate/)
    // Bob, the manager, is in #vault: he sees all of it.
    expect(keys(await page(w.bob.client))).toContain('keys-left')
    expect((await page(w.bob.client)).find((m) => m.key === 'vault-note')).toMatchObject({ scopeName: '#vault', value: 'VAULT-SECRET' })
    // Cy neither manages the agent nor reads its memory.
    expect(await page(cy.client)).toEqual([])
  })

  it('admins edit and delete entries they can see; nobody else edits any', async () => {
    const ref = { scope: 'task', scopeId: teamTask, key: 'launch-step' }
    const edited = await w.ada.client.request('PUT', `/api/agents/${bot.id}/memory`, { ...ref, value: { step: 4, note: 'after review' } })
    expect(edited.status).toBe(200)
    expect(edited.body.entry).toMatchObject({ ...ref, scopeName: 'Ship the launch post', value: { step: 4, note: 'after review' } })
    expect((await api.get(`/api/agent-api/memory?key=launch-step`)).body.memory).toEqual([expect.objectContaining({ value: { step: 4, note: 'after review' } })])
    // Limits hold for admins too; a missing value is refused, not stored as null.
    expect((await w.ada.client.request('PUT', `/api/agents/${bot.id}/memory`, { ...ref, value: 'z'.repeat(MAX_MEMORY_VALUE_BYTES + 1) })).status).toBe(400)
    expect((await w.ada.client.request('PUT', `/api/agents/${bot.id}/memory`, ref)).status).toBe(400)
    // What Ada cannot see is the same 404 as what does not exist, for edits and deletes.
    for (const hidden of [{ scope: 'conversation', scopeId: vaultId, key: 'vault-note' }, { scope: 'task', scopeId: vaultTask, key: 'keys-left' }, { scope: 'global', key: 'nope' }]) {
      expect((await w.ada.client.request('PUT', `/api/agents/${bot.id}/memory`, { ...hidden, value: 'mine now' })).status).toBe(404)
      expect((await w.ada.client.request('DELETE', `/api/agents/${bot.id}/memory`, hidden)).status).toBe(404)
    }
    expect((await api.get('/api/agent-api/memory?key=vault-note')).body.memory).toEqual([expect.objectContaining({ value: 'VAULT-SECRET' })])
    // The manager and a member may not edit; the agent's own token is not a person's.
    for (const client of [w.bob.client, cy.client, api]) {
      expect((await client.request('PUT', `/api/agents/${bot.id}/memory`, { scope: 'global', key: 'tone', value: 'loud' })).status).toBe(403)
      expect((await client.request('DELETE', `/api/agents/${bot.id}/memory`, { scope: 'global', key: 'tone' })).status).toBe(403)
    }
    const gone = await w.ada.client.request('DELETE', `/api/agents/${bot.id}/memory`, { scope: 'conversation', scopeId: w.channelId, key: 'team-plan' })
    expect(gone.body).toEqual({ ok: true })
    expect((await w.ada.client.request('DELETE', `/api/agents/${bot.id}/memory`, { scope: 'conversation', scopeId: w.channelId, key: 'team-plan' })).status).toBe(404)
    expect(keys(await page(w.ada.client))).not.toContain('team-plan')
    expect((await api.get('/api/agent-api/memory?key=team-plan')).body.memory).toEqual([])
  })

  it('membership is read when used: an admin who joins the channel sees and edits its memory', async () => {
    expect((await w.bob.client.post(`/api/conversations/${vaultId}/members`, { memberIds: [w.ada.member.id] })).status).toBeLessThan(300)
    expect(keys(await page(w.ada.client))).toEqual(expect.arrayContaining(['vault-note', 'keys-left']))
    const res = await w.ada.client.request('PUT', `/api/agents/${bot.id}/memory`, { scope: 'conversation', scopeId: vaultId, key: 'vault-note', value: 'rotated' })
    expect(res.status).toBe(200)
  })

  it('admins add entries in each scope they and the agent can reach; nobody else adds any', async () => {
    const add = (client: Client, body: Record<string, unknown>) => client.post(`/api/agents/${bot.id}/memory`, body)
    const global = await add(w.ada.client, { scope: 'global', key: 'escalate-to', value: '@ada' })
    expect(global.status).toBe(201)
    expect(global.body.entry).toMatchObject({ scope: 'global', scopeId: '', scopeName: null, key: 'escalate-to', value: '@ada' })
    const conv = await add(w.ada.client, { scope: 'conversation', scopeId: w.channelId, key: 'team-rules', value: { quiet: 'after 18:00' } })
    expect(conv.status).toBe(201)
    expect(conv.body.entry).toMatchObject({ scopeName: '#team', value: { quiet: 'after 18:00' } })
    const task = await add(w.ada.client, { scope: 'task', scopeId: teamTask, key: 'reviewer', value: 'bob' })
    expect(task.body.entry).toMatchObject({ scope: 'task', scopeId: teamTask, scopeName: 'Ship the launch post', value: 'bob' })
    // The agent reads them as its own, and the next packet carries them.
    const mine = (await api.get('/api/agent-api/memory')).body.memory as Entry[]
    expect(mine).toEqual(expect.arrayContaining([
      expect.objectContaining({ scope: 'global', key: 'escalate-to', value: '@ada' }),
      expect.objectContaining({ scope: 'conversation', scopeId: w.channelId, key: 'team-rules' }),
      expect.objectContaining({ scope: 'task', scopeId: teamTask, key: 'reviewer', value: 'bob' })
    ]))
    const before = hook.packets.length
    await say(w.bob.client, w.channelId, '@keeper any rules here?')
    const { packet } = await waitFor(() => hook.packets.slice(before).find((p) => p.packet.trigger === 'mention'), 10_000, 'the mention packet')
    expect(packet.memory.global).toMatchObject({ 'escalate-to': '@ada' })
    expect(packet.memory.byConversation[w.channelId]).toMatchObject({ 'team-rules': { quiet: 'after 18:00' } })
    await w.server.agents.queue.idle()

    // A key already there is edited, not overwritten by an add; limits hold.
    const again = await add(w.ada.client, { scope: 'global', key: 'escalate-to', value: '@bob' })
    expect(again.status).toBe(409)
    expect(again.body.error).toBe('memory_exists')
    expect((await api.get('/api/agent-api/memory?key=escalate-to')).body.memory).toEqual([expect.objectContaining({ value: '@ada' })])
    expect((await add(w.ada.client, { scope: 'global', key: 'huge', value: 'z'.repeat(MAX_MEMORY_VALUE_BYTES + 1) })).status).toBe(400)
    expect((await add(w.ada.client, { scope: 'global', key: 'no-value' })).status).toBe(400)
    expect((await add(w.ada.client, { scope: 'global', scopeId: w.channelId, key: 'mixed', value: 1 })).status).toBe(400)

    // Scopes Ada cannot see are the same 404 as none; scopes the agent cannot reach are explained.
    const cysRoom = (await cy.client.post('/api/conversations', { kind: 'channel', name: 'cys-room', isPrivate: true, memberIds: [bot.memberId] })).body.conversation.id
    const cysTask = (await cy.client.post('/api/tasks', { conversationId: cysRoom, title: 'Cy only' })).body.task.id
    for (const body of [{ scope: 'conversation', scopeId: cysRoom }, { scope: 'task', scopeId: cysTask }, { scope: 'task', scopeId: 'task_nope' }, { scope: 'conversation', scopeId: 'c_nope' }]) {
      const res = await add(w.ada.client, { ...body, key: 'peek', value: 1 })
      expect(res.status).toBe(404)
      expect(res.body.error).toBe('scope_not_found')
    }
    const adaOnly = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'ada-only', isPrivate: true })).body.conversation.id
    const adaTask = (await w.ada.client.post('/api/tasks', { conversationId: adaOnly, title: 'Not the agent\'s' })).body.task.id
    for (const body of [{ scope: 'conversation', scopeId: adaOnly }, { scope: 'task', scopeId: adaTask }]) {
      const res = await add(w.ada.client, { ...body, key: 'out', value: 1 })
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'agent_out_of_scope', message: expect.stringContaining('Keeper') })
    }
    // Membership is read when used: once the agent joins, the add goes through.
    expect((await w.ada.client.post(`/api/conversations/${adaOnly}/members`, { memberIds: [bot.memberId] })).status).toBeLessThan(300)
    expect((await add(w.ada.client, { scope: 'task', scopeId: adaTask, key: 'out', value: 1 })).status).toBe(201)
    expect((await api.get('/api/agent-api/memory?key=peek')).body.memory).toEqual([])

    // The manager, a member and the agent's own token may not add.
    for (const client of [w.bob.client, cy.client, api]) expect((await add(client, { scope: 'global', key: 'sneaky', value: 1 })).status).toBe(403)
    expect((await api.get('/api/agent-api/memory?key=sneaky')).body.memory).toEqual([])
  })
})
