import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ZodType } from 'zod'
import {
  actResultSchema, agentConversationsResponseSchema, agentMessagesResponseSchema, agentSearchResponseSchema, agentThreadResponseSchema
} from '@circlechat/protocol'
import { FakeAgent, botClient, provision, say, sleep, waitFor, world, type Client, type Provisioned, type World } from './helpers.js'

// The agent REST API answered in the shapes agents written for the seed read (docs/agents.md
// "Agent REST API"): a real server over a real SQLite file, a bot token, and a private channel,
// a public channel the agent is not in and a DM it is not in, to prove what it may not read.

/** Every successful answer of these routes must match the contract's schema (packages/protocol rest.ts). */
const contract: Array<[RegExp, ZodType]> = [
  [/^GET \/api\/agent-api\/messages\b/, agentMessagesResponseSchema],
  [/^GET \/api\/agent-api\/thread\b/, agentThreadResponseSchema],
  [/^GET \/api\/agent-api\/(search|recall)\b/, agentSearchResponseSchema],
  [/^GET \/api\/agent-api\/conversations\b/, agentConversationsResponseSchema],
  [/^POST \/api\/agent-api\/(act|post_message|react|memory)\b/, actResultSchema]
]
function checkedAgainstContract(client: Client): Client {
  const request = client.request.bind(client)
  client.request = async (method, path, ...rest) => {
    const res = await request(method, path, ...rest)
    const schema = contract.find(([route]) => route.test(`${method} ${path}`))?.[1]
    if (schema && res.status === 200) schema.parse(res.body)
    return res
  }
  return client
}

describe('agent REST API, seed shapes', () => {
  let w: World
  let hook: FakeAgent
  let bot: Provisioned
  let api: Client
  let lobbyId: string
  let vaultId: string
  let dmId: string

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent().start()
    bot = await provision(w.ada.client, { name: 'Scout', handle: 'scout', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], heartbeatIntervalSec: 86_400 })
    api = checkedAgainstContract(botClient(w.server.url, bot.botToken))
    lobbyId = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'lobby', topic: 'open to all' })).body.conversation.id
    vaultId = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'vault', isPrivate: true, memberIds: [w.bob.member.id] })).body.conversation.id
    dmId = (await w.ada.client.post('/api/conversations', { kind: 'dm', memberIds: [w.bob.member.id] })).body.conversation.id
  })
  afterAll(async () => {
    await hook.close()
    await w.server.close()
  })

  const author = { memberHandle: expect.any(String), memberName: expect.any(String), memberKind: expect.stringMatching(/^(user|agent)$/) }

  it('GET thread: {rootMessageId, messages: [root, ...replies]} from the root or any reply, deleted ones left out', async () => {
    const root = await say(w.ada.client, w.channelId, 'Thread root about the quarterly plan')
    const r1 = await say(w.bob.client, w.channelId, 'First reply to the plan', root.id)
    const gone = await say(w.bob.client, w.channelId, 'A reply bob takes back', root.id)
    const r3 = await say(w.ada.client, w.channelId, 'Third reply to the plan', root.id)
    expect((await w.bob.client.delete(`/api/messages/${gone.id}`)).status).toBe(200)
    await w.bob.client.post(`/api/messages/${r1.id}/reactions`, { emoji: '👍' })

    for (const id of [root.id, r3.id]) {
      const res = await api.get(`/api/agent-api/thread?messageId=${id}`)
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ rootMessageId: root.id, hasMore: false })
      expect(res.body.messages.map((m: { id: string }) => m.id)).toEqual([root.id, r1.id, r3.id])
    }
    const { messages } = (await api.get(`/api/agent-api/thread?messageId=${root.id}`)).body
    expect(messages[0]).toMatchObject({ id: root.id, parentId: null, bodyMd: 'Thread root about the quarterly plan', memberId: w.ada.member.id, memberHandle: 'ada', memberName: 'Ada', memberKind: 'user', conversationId: w.channelId })
    expect(messages[1]).toMatchObject({ parentId: root.id, memberHandle: 'bob', reactions: [{ emoji: '👍', memberId: w.bob.member.id, memberHandle: 'bob' }] })

    // A deleted root leaves the thread; its replies stay.
    expect((await w.ada.client.delete(`/api/messages/${root.id}`)).status).toBe(200)
    const after = (await api.get(`/api/agent-api/thread?messageId=${r1.id}`)).body
    expect(after.rootMessageId).toBe(root.id)
    expect(after.messages.map((m: { id: string }) => m.id)).toEqual([r1.id, r3.id])
    expect((await api.get('/api/agent-api/thread')).status).toBe(400)
    expect((await api.get('/api/agent-api/thread?messageId=msg_nope')).status).toBe(404)
  })

  it('GET messages and thread: its own channels and public channels it is not in, never a private channel or DM it is not in', async () => {
    const open = await say(w.ada.client, lobbyId, 'Lobby news everyone may read')
    await say(w.ada.client, lobbyId, 'A lobby thread reply', open.id)
    const secret = await say(w.ada.client, vaultId, 'VAULT-SECRET-42 combination')
    const whisper = await say(w.ada.client, dmId, 'DM-WHISPER-7 between us')
    await say(w.bob.client, vaultId, 'VAULT-SECRET-42 reply', secret.id)

    const lobby = await api.get(`/api/agent-api/messages?conversationId=${lobbyId}`)
    expect(lobby.status).toBe(200)
    expect(lobby.body.messages).toEqual([expect.objectContaining({ id: open.id, memberHandle: 'ada', memberName: 'Ada', memberKind: 'user', threadCount: 1 })])
    expect(lobby.body).toMatchObject({ hasMore: false, nextCursor: null })
    expect((await api.get(`/api/agent-api/thread?messageId=${open.id}`)).body.messages).toHaveLength(2)

    for (const conversationId of [vaultId, dmId, 'c_nope']) {
      const res = await api.get(`/api/agent-api/messages?conversationId=${conversationId}`)
      expect(res.status, conversationId).toBe(404)
      expect(res.body.error).toBe('conversation_not_found')
    }
    for (const id of [secret.id, whisper.id]) {
      const res = await api.get(`/api/agent-api/thread?messageId=${id}`)
      expect(res.status).toBe(404)
      expect(res.body.error).toBe('message_not_found')
      expect(JSON.stringify(res.body)).not.toMatch(/VAULT|WHISPER|vault/)
    }
    // Reading a public channel does not join it.
    expect((await w.ada.client.get(`/api/conversations/${lobbyId}/messages`)).status).toBe(200)
    expect(w.server.gateway.db.$client.prepare('SELECT count(*) FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(lobbyId, bot.memberId)).toBe(0)
  })

  it('GET messages: deleted messages left out; pages by cursor; authors named', async () => {
    const first = await say(w.bob.client, w.channelId, 'Bob says one thing')
    await say(w.bob.client, w.channelId, 'Bob says another thing')
    const keep = await say(w.bob.client, w.channelId, 'Bob keeps this one')
    const drop = await say(w.bob.client, w.channelId, 'Bob drops this one')
    await w.bob.client.delete(`/api/messages/${drop.id}`)
    const res = await api.get(`/api/agent-api/messages?conversationId=${w.channelId}&limit=2`)
    expect(res.status).toBe(200)
    expect(res.body.messages.map((m: { id: string }) => m.id)).not.toContain(drop.id)
    expect(res.body.messages.at(-1)).toMatchObject({ id: keep.id, memberId: w.bob.member.id, memberHandle: 'bob', memberName: 'bob', memberKind: 'user', deleted: false })
    expect(res.body.hasMore).toBe(true)
    const older = await api.get(`/api/agent-api/messages?conversationId=${w.channelId}&limit=2&cursor=${res.body.nextCursor}`)
    expect(older.status).toBe(200)
    expect(older.body.messages.map((m: { id: string }) => m.id)).toContain(first.id)
    expect(older.body.messages.every((m: { deleted: boolean }) => !m.deleted)).toBe(true)
  })

  it('GET search and GET recall: {matches: Message[]} over what the agent may read, best first', async () => {
    await say(w.bob.client, w.channelId, 'The zeppelin launch is on Friday')
    await say(w.ada.client, lobbyId, 'Zeppelin tickets are in the lobby')
    await say(w.ada.client, vaultId, 'Zeppelin codes VAULT-ZEP live here')
    await say(w.ada.client, dmId, 'Zeppelin gossip DM-ZEP for bob')
    const res = await waitFor(async () => {
      const r = await api.get('/api/agent-api/search?q=zeppelin')
      return r.body.matches?.length >= 2 ? r : null
    }, 5000, 'search hits')
    expect(res.status).toBe(200)
    expect(res.body.matches.map((m: { conversationId: string }) => m.conversationId).sort()).toEqual([w.channelId, lobbyId].sort())
    for (const m of res.body.matches) expect(m).toMatchObject({ id: expect.any(String), bodyMd: expect.stringMatching(/zeppelin/i), ts: expect.any(String), parentId: null, ...author })
    expect(JSON.stringify(res.body)).not.toMatch(/VAULT-ZEP|DM-ZEP/)

    const recall = await api.get('/api/agent-api/recall?q=zeppelin&k=1')
    expect(recall.status).toBe(200)
    expect(recall.body.matches).toHaveLength(1)
    const one = await api.get(`/api/agent-api/search?q=zeppelin&conversationId=${lobbyId}`)
    expect(one.body.matches.map((m: { conversationId: string }) => m.conversationId)).toEqual([lobbyId])
    for (const conversationId of [vaultId, dmId]) expect((await api.get(`/api/agent-api/search?q=zeppelin&conversationId=${conversationId}`)).status).toBe(404)
    expect((await api.get('/api/agent-api/search')).status).toBe(400)
    expect((await api.get('/api/agent-api/search?q=nothingmatchesthis')).body).toEqual({ matches: [] })

    // Search needs channels.read, like the other reads.
    const mute = await provision(w.ada.client, { name: 'Mute', handle: 'mute', adapter: 'webhook', callbackUrl: hook.url, scopes: ['channels.reply'] })
    for (const path of ['/api/agent-api/search?q=zeppelin', '/api/agent-api/recall?q=zeppelin']) {
      const refused = await botClient(w.server.url, mute.botToken).get(path)
      expect(refused.status, path).toBe(403)
      expect(refused.body.error).toBe('scope_missing')
    }
  })

  it('GET conversations: its own (joined: true) and the public channels it is not in (joined: false), no private ones', async () => {
    const res = await api.get('/api/agent-api/conversations')
    expect(res.status).toBe(200)
    const byId = new Map(res.body.conversations.map((c: { id: string }) => [c.id, c]))
    expect(byId.get(w.channelId)).toMatchObject({ kind: 'channel', name: 'team', isPrivate: false, joined: true })
    expect(byId.get(lobbyId)).toMatchObject({ kind: 'channel', name: 'lobby', topic: 'open to all', isPrivate: false, joined: false, memberIds: expect.arrayContaining([w.ada.member.id]) })
    expect(byId.has(vaultId)).toBe(false)
    expect(byId.has(dmId)).toBe(false)
  })

  it('GET members: entries carry memberId beside id', async () => {
    const res = await api.get('/api/agent-api/members')
    expect(res.body.humans).toEqual(expect.arrayContaining([expect.objectContaining({ id: w.ada.member.id, memberId: w.ada.member.id, handle: 'ada', name: 'Ada', kind: 'user' })]))
    expect(res.body.agents).toEqual(expect.arrayContaining([expect.objectContaining({ id: bot.memberId, memberId: bot.memberId, handle: 'scout' })]))
  })

  it('POST post_message accepts replyTo: null; POST act answers {ok, applied: <count>, errors: [string], trace: [string]}', async () => {
    const posted = await api.post('/api/agent-api/post_message', { conversationId: w.channelId, bodyMd: 'Scout reporting with no thread at all', replyTo: null })
    expect(posted.status).toBe(200)
    expect(posted.body).toMatchObject({ ok: true, applied: 1, errors: [], trace: [expect.stringMatching(/^post_message /)] })
    const messageId = posted.body.results[0].result.messageId as string
    const row = (await api.get(`/api/agent-api/thread?messageId=${messageId}`)).body.messages[0]
    expect(row).toMatchObject({ parentId: null, memberHandle: 'scout', memberName: 'Scout', memberKind: 'agent' })
    expect((await api.post('/api/agent-api/post_message', { conversationId: w.channelId, bodyMd: 'Scout answers in the thread', replyTo: messageId })).status).toBe(200)

    const act = await api.post('/api/agent-api/act', { actions: [
      { type: 'react', message_id: messageId, emoji: '🚀' },
      { type: 'post_message', conversation_id: vaultId, body_md: 'Scout tries the vault door' },
      { type: 'nope' }
    ] })
    expect(act.status).toBe(200)
    expect(act.body).toMatchObject({ ok: false, applied: 1, trace: ['react'] })
    expect(act.body.errors).toEqual([expect.stringMatching(/^post_message: .*not a member/), expect.stringMatching(/^nope: /)])
    expect(act.body.results).toEqual([{ index: 0, type: 'react' }])
    expect(act.body.errorDetails).toEqual([{ index: 1, type: 'post_message', error: expect.any(String) }, { index: 2, type: 'nope', error: expect.any(String) }])
    const ok = await api.post('/api/agent-api/act', { action: { type: 'set_memory', key: 'seen', value: true } })
    expect(ok.body).toMatchObject({ ok: true, applied: 1, errors: [], trace: ['set_memory'] })
  })

  it('DELETE memory reads {key, scope?, scopeId?} from a JSON body as well as the query', async () => {
    await api.post('/api/agent-api/memory', { key: 'plan', value: 1 })
    await api.post('/api/agent-api/memory', { key: 'note', value: 2, scope: 'conversation', scopeId: w.channelId })
    expect((await api.request('DELETE', '/api/agent-api/memory', { key: 'plan' })).body).toEqual({ ok: true })
    expect((await api.request('DELETE', '/api/agent-api/memory', { key: 'note', scope: 'conversation', scopeId: w.channelId })).body).toEqual({ ok: true })
    expect((await api.get('/api/agent-api/memory?key=plan')).body.memory).toEqual([])
    expect((await api.get('/api/agent-api/memory?key=note')).body.memory).toEqual([])
    await api.post('/api/agent-api/memory', { key: 'plan', value: 3 })
    expect((await api.delete('/api/agent-api/memory?key=plan')).body).toEqual({ ok: true })
    expect((await api.request('DELETE', '/api/agent-api/memory', { scope: 'global' })).status).toBe(400)
    expect((await api.request('DELETE', '/api/agent-api/memory', '[1]')).status).toBe(400)
  })

  it('a webhook agent provisioned without a callback is not called until it registers one with its own token', async () => {
    const late = await provision(w.ada.client, { name: 'Late', handle: 'late', adapter: 'webhook', channelIds: [w.channelId], heartbeatIntervalSec: 5 })
    const other = await provision(w.ada.client, { name: 'Other', handle: 'other', adapter: 'webhook', callbackUrl: hook.url, heartbeatIntervalSec: 86_400 })
    const sql = w.server.gateway.db.$client
    // A mention is recorded as a failed run that says why; no heartbeat is scheduled.
    await say(w.bob.client, w.channelId, '@late are you there yet')
    const failed = await waitFor(() => sql.prepare(`SELECT errors, attempts FROM agent_runs WHERE agent_id = ? AND status = 'error'`).get(late.id) as { errors: string; attempts: number } | undefined, 10_000, 'failed run')
    expect(failed.errors).toMatch(/no callback URL registered yet.*register/)
    // Retrying cannot help, so it fails on the first attempt.
    expect(failed.attempts).toBe(1)
    await w.server.agents.queue.idle()
    await sleep(5500)
    expect(sql.prepare(`SELECT count(*) FROM agent_runs WHERE agent_id = ? AND trigger = 'scheduled'`).pluck().get(late.id)).toBe(0)

    // Only the agent itself: not another agent's token, not a person (even an admin).
    const url = `${hook.url}/late`
    for (const [client, id] of [[botClient(w.server.url, other.botToken), late.id], [botClient(w.server.url, late.botToken), other.id], [w.ada.client, late.id]] as const) {
      const res = await client.post(`/api/agents/${id}/register`, { callbackUrl: url })
      expect(res.status).toBe(403)
      expect(res.body.error).toBe('not_this_agent')
    }
    expect((await botClient(w.server.url, other.botToken).post(`/api/agents/${late.id}/register`, {})).status).toBe(403)
    const self = botClient(w.server.url, late.botToken)
    expect((await self.post(`/api/agents/${late.id}/register`, { callbackUrl: 'not a url' })).status).toBe(400)
    const done = await self.post(`/api/agents/${late.memberId}/register`, { callbackUrl: url })
    expect(done.status).toBe(200)
    expect(done.body).toEqual({ ok: true, agentId: late.id, memberId: late.memberId, callbackUrl: url })
    const info = (await w.ada.client.get(`/api/agents/${late.id}`)).body.agent
    expect(info).toMatchObject({ callbackUrl: url, status: 'idle', lastError: null })
    // Heartbeats start: the mention is news, so the next tick calls the agent.
    const beat = await waitFor(() => hook.packets.find((p) => p.packet.agent.id === late.id && p.path === '/late/heartbeat'), 10_000, 'first heartbeat')
    expect(beat.packet.trigger).toBe('scheduled')
    await w.server.agents.queue.idle()
  })

  it('register refuses a socket agent', async () => {
    const sock = await provision(w.ada.client, { name: 'Sock', handle: 'sock', adapter: 'socket', heartbeatIntervalSec: 86_400 })
    const res = await botClient(w.server.url, sock.botToken).post(`/api/agents/${sock.id}/register`, { callbackUrl: hook.url })
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('not_webhook')
  })
})

describe('agent registration, SSRF rules on', () => {
  let w: World

  beforeAll(async () => {
    w = await world({ agentAllowPrivateUrls: false })
  })
  afterAll(async () => {
    await w.server.close()
  })

  it('a private or metadata callback is refused with the reason; a public one is stored', async () => {
    const a = await provision(w.ada.client, { name: 'Remote', handle: 'remote', adapter: 'webhook', heartbeatIntervalSec: 86_400 })
    const self = botClient(w.server.url, a.botToken)
    for (const callbackUrl of ['http://127.0.0.1:8787/', 'http://169.254.169.254/latest', 'http://[::ffff:10.0.0.1]/', 'http://user:pw@93.184.216.34/']) {
      const res = await self.post(`/api/agents/${a.id}/register`, { callbackUrl })
      expect(res.status, callbackUrl).toBe(400)
      expect(res.body.error).toBe('callback_refused')
      expect(res.body.message).toMatch(/^Callback URL refused: (.* resolves to a private address|credentials in the URL)/)
    }
    expect((await w.ada.client.get(`/api/agents/${a.id}`)).body.agent.callbackUrl).toBeNull()
    const ok = await self.post(`/api/agents/${a.id}/register`, { callbackUrl: 'http://93.184.216.34/hook' })
    expect(ok.body).toMatchObject({ ok: true, callbackUrl: 'http://93.184.216.34/hook' })
    // The same rule as provisioning, which still refuses a private callback.
    expect((await w.ada.client.post('/api/agents', { name: 'Evil', handle: 'evil', adapter: 'webhook', callbackUrl: 'http://10.1.2.3/' })).status).toBe(400)
  })
})
