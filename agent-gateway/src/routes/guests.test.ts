import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName } from '@circlechat/model'
import { Client, PASSWORD, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

/** Opens a sync socket and resolves 'open' or the HTTP status that refused it. */
function tryConnect(base: string, cookie: string, doc: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/sync/${doc}`, { headers: { cookie: `cc_session=${cookie}`, origin: base } })
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode))
      ws.terminate()
    })
    ws.on('error', (err) => resolve(`error:${err.message}`))
  })
}

/**
 * ACC7: a guest reads only the channels they were invited to. Every route that reads a
 * conversation, and the sync socket, refuses a public channel the guest is not in.
 */
describe('guests', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Awaited<ReturnType<typeof signupAdmin>>
  let bob: { client: Client; member: { id: string } }
  let gil: { client: Client; member: { id: string } }
  let shared: string
  let launch: string
  let root: { id: string }
  let fileKey: string
  let launchTask: string
  let wsTask: string

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    await addPerson(server.url, ada.client, 'cy')
    launch = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'launch', memberIds: [bob.member.id] })).body.conversation.id
    shared = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'with-client', isPrivate: true, memberIds: [bob.member.id] })).body.conversation.id
    const up = await ada.client.upload('/api/uploads', 'plan.txt', 'zebra plan', 'text/plain')
    fileKey = up.body.key
    root = (await ada.client.post(`/api/conversations/${launch}/messages`, { bodyMd: 'zebra launch secret', attachments: [{ key: fileKey }] })).body.message
    await bob.client.post(`/api/conversations/${launch}/messages`, { bodyMd: 'zebra reply', parentId: root.id })
    launchTask = (await ada.client.post('/api/tasks', { conversationId: launch, title: 'zebra launch task' })).body.task.id
    wsTask = (await ada.client.post('/api/tasks', { title: 'zebra workspace task' })).body.task.id
    await ada.client.post(`/api/conversations/${shared}/messages`, { bodyMd: 'zebra for the client' })

    const link = await ada.client.post('/api/admin/invites', { role: 'guest', channelIds: [shared], expiresInHours: 24 })
    expect(link.status).toBe(201)
    const client = new Client(server.url)
    const res = await client.post('/api/auth/accept-invite', { token: link.body.token, email: 'gil@example.com', name: 'Gil', handle: 'gil', password: PASSWORD })
    expect(res.status).toBe(201)
    expect(res.body.member.role).toBe('guest')
    gil = { client, member: res.body.member }
    // Mentioned on the workspace board: that task still stays out of their activity.
    await ada.client.post(`/api/tasks/${wsTask}/comments`, { bodyMd: 'zebra @gil' })
  })
  afterAll(async () => {
    await server.close()
  })

  it('joins only the invite’s channels', async () => {
    const mine = (await gil.client.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)
    expect(mine).toEqual([shared])
    expect((await gil.client.get(`/api/conversations/${shared}/messages`)).status).toBe(200)
  })

  it('an email invite as a guest names its channels, and joins only those', async () => {
    expect((await ada.client.post('/api/auth/invite', { email: 'hal@example.com', role: 'guest' })).body.error).toBe('guest_needs_channels')
    expect((await ada.client.post('/api/auth/invite', { email: 'hal@example.com', role: 'guest', channelIds: ['c_nothere00000000'] })).body.error).toBe('unknown_channel')
    const invite = await ada.client.post('/api/auth/invite', { email: 'hal@example.com', role: 'guest', channelIds: [shared] })
    expect(invite.status).toBe(200)
    const hal = new Client(server.url)
    const res = await hal.post('/api/auth/accept-invite', { token: invite.body.token, email: 'hal@example.com', name: 'Hal', handle: 'hal', password: PASSWORD })
    expect(res.status).toBe(201)
    expect(res.body.member.role).toBe('guest')
    expect((await hal.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)).toEqual([shared])
    expect((await hal.get(`/api/conversations/${launch}/messages`)).status).toBe(404)
  })

  it('cannot read a public channel it is not in, through any REST route', async () => {
    expect((await gil.client.get(`/api/conversations/${launch}/messages`)).status).toBe(404)
    expect((await gil.client.get(`/api/conversations/${launch}/messages?parent_id=${root.id}`)).status).toBe(404)
    expect((await gil.client.get(`/api/messages/${root.id}`)).status).toBe(404)
    expect((await gil.client.get(`/api/conversations/${launch}/pins`)).status).toBe(404)
    expect((await gil.client.post(`/api/conversations/${launch}/messages`, { bodyMd: 'hi' })).status).toBe(404)
    expect((await gil.client.post(`/api/conversations/${launch}/join`)).status).toBe(404)
    expect((await gil.client.post(`/api/threads/${root.id}/follow`)).status).toBe(404)
    expect((await gil.client.get('/api/threads')).body.threads).toEqual([])
    // Search: messages and tasks, everywhere and scoped.
    const hits = await gil.client.get('/api/search?q=zebra')
    expect(hits.status).toBe(200)
    expect(JSON.stringify(hits.body)).not.toMatch(/launch|workspace task/)
    expect(JSON.stringify(hits.body)).toMatch(/for the client/)
    expect((await gil.client.get(`/api/search?q=zebra&conversationId=${launch}`)).status).toBe(404)
    // Files: the attachment and the list.
    expect((await gil.client.get(`/files/${fileKey}`)).status).toBe(404)
    expect((await gil.client.get('/api/files')).body.files).toEqual([])
    // Board and tasks: the channel's and the workspace board's.
    expect((await gil.client.get(`/api/tasks/${launchTask}`)).status).toBe(404)
    expect((await gil.client.get(`/api/tasks/${wsTask}`)).status).toBe(404)
    expect((await gil.client.get(`/api/tasks?conversationId=${launch}`)).body.tasks ?? []).toEqual([])
    expect((await gil.client.get('/api/tasks')).body.tasks).toEqual([])
    expect((await gil.client.post('/api/tasks', { title: 'sneak onto the workspace board' })).status).toBe(404)
    expect((await gil.client.patch(`/api/tasks/${wsTask}`, { title: 'mine' })).status).toBe(404)
    // Activity: the mention on the workspace board stays out.
    expect((await gil.client.get('/api/activity')).body.items).toEqual([])
    // A member still sees all of it.
    expect((await bob.client.get(`/api/tasks/${wsTask}`)).status).toBe(200)
    // Nor can anyone put a guest on a workspace board task they could not see.
    const assign = await ada.client.post(`/api/tasks/${wsTask}/assignees`, { memberId: gil.member.id })
    expect(assign.status).toBe(400)
    expect(assign.body.error).toBe('unknown_member')
  })

  it('cannot browse, create channels, add people, or DM people outside its channels', async () => {
    expect((await gil.client.get('/api/conversations/browse')).body.error).toBe('guest_forbidden')
    expect((await gil.client.post('/api/conversations', { kind: 'channel', name: 'guest-room' })).body.error).toBe('guest_forbidden')
    const cy = (await ada.client.get('/api/members')).body.members.find((m: { handle: string }) => m.handle === 'cy')
    expect((await gil.client.post(`/api/conversations/${shared}/members`, { memberIds: [cy.id] })).body.error).toBe('guest_forbidden')
    const stranger = await gil.client.post('/api/conversations', { kind: 'dm', memberIds: [cy.id] })
    expect(stranger.status).toBe(403)
    expect(stranger.body.error).toBe('guest_forbidden')
    expect((await gil.client.post('/api/conversations', { kind: 'dm', memberIds: [bob.member.id] })).status).toBeLessThan(300)
    // A member may still DM the guest.
    expect(await addPersonDm(bob.client, gil.member.id)).toBeLessThan(300)
  })

  it('cannot open a public channel’s docs or the workspace board over sync; its own channel opens', async () => {
    const cookie = gil.client.cookie!
    expect(await tryConnect(server.url, cookie, docName.conv(launch, 0))).toBe('403')
    expect(await tryConnect(server.url, cookie, docName.board(launch))).toBe('403')
    expect(await tryConnect(server.url, cookie, docName.thread(root.id))).toBe('403')
    expect(await tryConnect(server.url, cookie, docName.board(ada.workspace.id))).toBe('403')
    expect(await tryConnect(server.url, cookie, docName.conv(shared, 0))).toBe('open')
    expect(await tryConnect(server.url, cookie, docName.dir(ada.workspace.id))).toBe('open')
    expect(await tryConnect(server.url, bob.client.cookie!, docName.board(ada.workspace.id))).toBe('open')
  })

  it('a guest agent reads no public channel it is not in through the agent API', async () => {
    const made = await ada.client.post('/api/agents', { name: 'Scout', handle: 'scout', adapter: 'peer', channelIds: [shared] })
    expect(made.status).toBe(201)
    const bot = new Client(server.url, { origin: null })
    bot.bearer = made.body.botToken
    // A member agent reads public channels it has not joined, as the seed's did…
    expect((await bot.get(`/api/agent-api/messages?conversationId=${launch}`)).status).toBe(200)
    expect((await ada.client.patch(`/api/members/${made.body.agent.memberId}`, { role: 'guest' })).status).toBe(200)
    // …a guest agent does not: not in its listing, its reads or its search.
    const listed = (await bot.get('/api/agent-api/conversations')).body.conversations.map((c: { id: string }) => c.id)
    expect(listed).toEqual([shared])
    expect((await bot.get(`/api/agent-api/messages?conversationId=${launch}`)).status).toBe(404)
    expect((await bot.get(`/api/agent-api/thread?messageId=${root.id}`)).status).toBe(404)
    const found = await bot.get('/api/agent-api/search?q=zebra')
    expect(found.status).toBe(200)
    expect(JSON.stringify(found.body)).not.toMatch(/launch/)
    expect(JSON.stringify(found.body)).toMatch(/for the client/)
    expect((await bot.get(`/api/agent-api/tasks/${wsTask}`)).status).toBe(404)
  })

  it('a member made a guest loses the open workspace board at once', async () => {
    const provider = syncClient(server.url, bob.client.cookie!, docName.board(ada.workspace.id))
    await whenSynced(provider)
    const closed = new Promise<number>((resolve) => provider.ws!.addEventListener('close', (e) => resolve((e as CloseEvent).code)))
    expect((await ada.client.patch(`/api/members/${bob.member.id}`, { role: 'guest' })).status).toBe(200)
    expect(await closed).toBe(4009)
    provider.destroy()
    expect(await tryConnect(server.url, bob.client.cookie!, docName.board(ada.workspace.id))).toBe('403')
    expect((await bob.client.get(`/api/tasks/${wsTask}`)).status).toBe(404)
    expect((await bob.client.get(`/api/conversations/${launch}/messages`)).status).toBe(200) // kept the channels they were in
    await ada.client.patch(`/api/members/${bob.member.id}`, { role: 'member' })
  })
})

async function addPersonDm(client: Client, memberId: string): Promise<number> {
  return (await client.post('/api/conversations', { kind: 'dm', memberIds: [memberId] })).status
}
