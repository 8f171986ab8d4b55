import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { closeCode } from '@circlechat/protocol'
import { appendMessage, docName, listMessages, meConversationsOf, meDraftsOf } from '@circlechat/model'
import { syncClient, whenSynced } from '../src/test/sync-client.js'
import { SESSION_TTL_MS, createSession } from '../src/auth/sessions.js'
import { Client, PASSWORD, addPerson, provision, say, sleep, waitFor, world, type World } from './agents/helpers.js'

/**
 * Revocation is immediate: logout, session expiry, deactivation, leaving a conversation and bot
 * token rotation close every socket they affect, over real sockets on a real server.
 */
let w: World
const providers: WebsocketProvider[] = []
const raws: WebSocket[] = []
beforeAll(async () => { w = await world() })
afterAll(async () => {
  for (const p of providers) p.destroy()
  for (const ws of raws) ws.terminate()
  await w.server.close()
})

interface Opened { p: WebsocketProvider; codes: number[]; doc: Y.Doc }

/** Records the close codes the server sent (y-websocket stops reconnecting on 4400–4499). */
function watch(p: WebsocketProvider): Opened {
  providers.push(p)
  const codes: number[] = []
  p.on('closed', (e: { code: number }) => codes.push(e.code))
  return { p, codes, doc: p.doc }
}

const asPerson = (cookie: string, name: string) => watch(syncClient(w.server.url, cookie, name))

function asBot(token: string, name: string): Opened {
  const p = new WebsocketProvider(`${w.server.url.replace(/^http/, 'ws')}/sync`, name, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token }
  })
  p.messageHandlers[100] = () => {}
  p.messageHandlers[101] = () => {}
  return watch(p)
}

async function openAll(...opened: Opened[]) {
  await Promise.all(opened.map((o) => whenSynced(o.p)))
  return opened
}

const wsUrl = (path: string) => `${w.server.url.replace(/^http/, 'ws')}${path}`

/** The HTTP status an upgrade gets (101 when it opens). */
function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(wsUrl(path), { headers })
  ws.on('error', () => {})
  return new Promise((resolve) => {
    ws.once('open', () => { ws.close(); resolve(101) })
    ws.once('unexpected-response', (req, res) => { resolve(res.statusCode ?? 0); req.destroy() })
  })
}
const cookieHeaders = (cookie: string) => ({ cookie: `cc_session=${cookie}`, origin: w.server.url })

const sql = () => w.server.gateway.db.$client
const userIdOf = (memberId: string) => sql().prepare('SELECT user_id FROM members WHERE id = ?').pluck().get(memberId) as string

async function channel(name: string, memberIds: string[], isPrivate = false): Promise<string> {
  const res = await w.ada.client.post('/api/conversations', { kind: 'channel', name, isPrivate, memberIds })
  if (res.status !== 201) throw new Error(`channel: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.conversation.id
}

async function login(handle: string): Promise<Client> {
  const c = new Client(w.server.url)
  const res = await c.post('/api/auth/login', { email: `${handle}@example.com`, password: PASSWORD })
  if (res.status !== 200) throw new Error(`login: ${res.status}`)
  return c
}

describe('logout', () => {
  it('closes every sync socket of that session at once (conv, thread, board, me, dir), and no other', async () => {
    const carol = await addPerson(w.server.url, w.ada.client, 'carol')
    const ch = await channel('carol-room', [carol.member.id])
    const root = await say(w.ada.client, ch, 'a root nobody answered')
    const cookie = carol.client.cookie!
    const mine = await openAll(
      asPerson(cookie, docName.conv(ch, 0)), asPerson(cookie, docName.thread(root.id)), asPerson(cookie, docName.board(ch)),
      asPerson(cookie, docName.me(carol.member.id)), asPerson(cookie, docName.dir(w.ada.workspace.id))
    )
    const other = await login('carol') // a second session of the same person, e.g. another device
    const [otherConv] = await openAll(asPerson(other.cookie!, docName.conv(ch, 0)))

    expect((await carol.client.post('/api/auth/logout')).status).toBe(200)
    await waitFor(() => mine.every((o) => o.codes.length === 1), 5000, 'every socket of the session closed')
    expect(mine.map((o) => o.codes[0])).toEqual(mine.map(() => closeCode.unauthorized))

    // New messages reach the other session, not the logged-out one.
    await say(w.ada.client, ch, 'after logout')
    await waitFor(() => listMessages(otherConv!.doc).some((m) => m.body === 'after logout'), 5000, 'the other session to receive it')
    expect(listMessages(mine[0]!.doc).map((m) => m.body)).toEqual(['a root nobody answered'])
    expect(otherConv!.codes).toEqual([])
    // The old cookie opens nothing any more.
    expect(await upgradeStatus(`/sync/${docName.me(carol.member.id)}`, cookieHeaders(cookie))).toBe(401)
    // A draft written in the logged-out tab never reaches the server.
    meDraftsOf(mine[3]!.doc).set(ch, 'typed after logout')
    await sleep(150)
    const serverMe = await w.server.gateway.sync.getDoc(docName.me(carol.member.id))
    expect(meDraftsOf(serverMe).get(ch)).toBeUndefined()
  })

  it('a write re-checks the session: one gone from SQLite is refused and its socket closed', async () => {
    const dana = await addPerson(w.server.url, w.ada.client, 'dana')
    const ch = await channel('dana-room', [dana.member.id])
    const cookie = dana.client.cookie!
    const [me, conv] = await openAll(asPerson(cookie, docName.me(dana.member.id)), asPerson(cookie, docName.conv(ch, 0)))
    meDraftsOf(me!.doc).set(ch, 'before')
    const serverMe = await w.server.gateway.sync.getDoc(docName.me(dana.member.id))
    await waitFor(() => meDraftsOf(serverMe).get(ch) === 'before', 5000, 'the first draft')

    // The row disappears without anyone calling the relay (another process, a manual purge).
    sql().prepare('DELETE FROM sessions WHERE user_id = ?').run(userIdOf(dana.member.id))
    meDraftsOf(me!.doc).set(ch, 'after')
    appendMessage(conv!.doc, { author: dana.member.id, body: 'posted without a session' })
    await waitFor(() => me!.codes.length === 1 && conv!.codes.length === 1, 5000, 'both sockets closed')
    expect([me!.codes, conv!.codes]).toEqual([[closeCode.unauthorized], [closeCode.unauthorized]])
    await sleep(100)
    expect(meDraftsOf(serverMe).get(ch)).toBe('before')
    expect(sql().prepare('SELECT count(*) FROM messages WHERE body = ?').pluck().get('posted without a session')).toBe(0)
  })
})

describe('session expiry', () => {
  it('closes the socket when the session expires; a session renewed meanwhile keeps it open', async () => {
    const erin = await addPerson(w.server.url, w.ada.client, 'erin')
    const ch = await channel('erin-room', [erin.member.id])
    const db = w.server.gateway.db
    // Sessions created so that 1.5 s of their 30 days are left.
    const soon = () => createSession(db, userIdOf(erin.member.id), Date.now() - SESSION_TTL_MS + 1500)
    const expiring = soon()
    const renewed = soon()
    const [a, b] = await openAll(asPerson(expiring.token, docName.conv(ch, 0)), asPerson(expiring.token, docName.me(erin.member.id)))
    const [c] = await openAll(asPerson(renewed.token, docName.conv(ch, 0)))
    // The upgrade did not slide the expiry (it cannot re-send the cookie).
    expect(sql().prepare('SELECT expires_at FROM sessions WHERE id = ?').pluck().get(expiring.session.id)).toBe(expiring.session.expiresAt)
    expect(a!.codes).toEqual([])
    // A REST request slides the second session forward, as a browser tab in use does.
    const rest = new Client(w.server.url)
    rest.cookie = renewed.token
    expect((await rest.get('/api/me')).status).toBe(200)

    await waitFor(() => a!.codes.length === 1 && b!.codes.length === 1, 6000, 'the expired session closed')
    expect([a!.codes, b!.codes]).toEqual([[closeCode.unauthorized], [closeCode.unauthorized]])
    expect(Date.now()).toBeGreaterThanOrEqual(expiring.session.expiresAt)
    await sleep(Math.max(0, renewed.session.expiresAt - Date.now()) + 300)
    expect(c!.codes).toEqual([])
    expect(c!.p.wsconnected).toBe(true)
    await say(w.ada.client, ch, 'still here?')
    await waitFor(() => listMessages(c!.doc).some((m) => m.body === 'still here?'), 5000, 'the renewed session to receive')
  })
})

describe('deactivation', () => {
  it('closes every socket of a deactivated person and locks them out', async () => {
    const finn = await addPerson(w.server.url, w.ada.client, 'finn')
    const ch = await channel('finn-room', [finn.member.id])
    const cookie = finn.client.cookie!
    const other = await login('finn')
    const sockets = await openAll(
      asPerson(cookie, docName.conv(ch, 0)), asPerson(cookie, docName.me(finn.member.id)), asPerson(cookie, docName.dir(w.ada.workspace.id)),
      asPerson(other.cookie!, docName.conv(ch, 0))
    )
    const [adaConv] = await openAll(asPerson(w.ada.client.cookie!, docName.conv(ch, 0)))
    // Only admins deactivate, and not themselves.
    expect((await w.bob.client.post(`/api/members/${finn.member.id}/deactivate`)).status).toBe(403)
    expect((await w.ada.client.post(`/api/members/${w.ada.member.id}/deactivate`)).status).toBe(400)

    const res = await w.ada.client.post(`/api/members/${finn.member.id}/deactivate`)
    expect(res.status).toBe(200)
    await waitFor(() => sockets.every((o) => o.codes.length === 1), 5000, 'every socket of finn closed')
    expect(sockets.map((o) => o.codes[0])).toEqual(sockets.map(() => closeCode.unauthorized))
    expect(adaConv!.codes).toEqual([])
    expect((await finn.client.get('/api/me')).status).toBe(401)
    expect(await upgradeStatus(`/sync/${docName.me(finn.member.id)}`, cookieHeaders(other.cookie!))).toBe(401)
    const dir = await w.server.gateway.sync.getDoc(docName.dir(w.ada.workspace.id))
    expect((dir.getMap('members').get(finn.member.id) as { deactivated: boolean }).deactivated).toBe(true)
  })

  it('closes a deactivated agent\'s /agent-socket and sync sockets', async () => {
    const agent = await provision(w.ada.client, { name: 'Gone', handle: 'gone', adapter: 'socket', channelIds: [w.channelId] })
    const hub = await agentSocket(agent.botToken)
    const docs = await openAll(asBot(agent.botToken, docName.conv(w.channelId, 0)), asBot(agent.botToken, docName.me(agent.memberId)))
    expect((await w.ada.client.post(`/api/members/${agent.memberId}/deactivate`)).status).toBe(200)
    expect(await hub.closed).toBe(closeCode.unauthorized)
    await waitFor(() => docs.every((o) => o.codes.length === 1), 5000, 'the agent\'s sync sockets closed')
    expect(docs.map((o) => o.codes[0])).toEqual([closeCode.unauthorized, closeCode.unauthorized])
    expect(await upgradeStatus(`/sync/${docName.me(agent.memberId)}?token=${agent.botToken}`)).toBe(401)
  })
})

describe('leaving a private channel', () => {
  it('closes the thread socket of a root with no replies, the board and the segments; other docs stay', async () => {
    const gus = await addPerson(w.server.url, w.ada.client, 'gus')
    const secret = await channel('secret', [gus.member.id], true)
    const elsewhere = await channel('gus-elsewhere', [gus.member.id])
    const root = await say(w.ada.client, secret, 'no replies yet')
    const cookie = gus.client.cookie!
    const gone = await openAll(asPerson(cookie, docName.thread(root.id)), asPerson(cookie, docName.board(secret)), asPerson(cookie, docName.conv(secret, 0)))
    const kept = await openAll(asPerson(cookie, docName.me(gus.member.id)), asPerson(cookie, docName.conv(elsewhere, 0)))

    expect((await gus.client.post(`/api/conversations/${secret}/leave`)).status).toBe(200)
    await waitFor(() => gone.every((o) => o.codes.length === 1), 5000, 'the conversation\'s sockets closed')
    expect(gone.map((o) => o.codes[0])).toEqual([closeCode.revoked, closeCode.revoked, closeCode.revoked])

    await say(w.ada.client, secret, 'first reply, after gus left', root.id)
    await say(w.ada.client, secret, 'a new top-level message')
    await sleep(150)
    expect(listMessages(gone[0]!.doc)).toEqual([])
    expect(listMessages(gone[2]!.doc).map((m) => m.body)).toEqual(['no replies yet'])
    expect(kept.map((o) => o.codes)).toEqual([[], []])
    expect(await upgradeStatus(`/sync/${docName.thread(root.id)}`, cookieHeaders(cookie))).toBe(403)
  })
})

describe('removed from a channel', () => {
  it('closes the removed member\'s sockets of that channel at once and drops it from their sidebar', async () => {
    const hal = await addPerson(w.server.url, w.ada.client, 'hal')
    const room = await channel('hal-room', [hal.member.id], true)
    const cookie = hal.client.cookie!
    const gone = await openAll(asPerson(cookie, docName.conv(room, 0)), asPerson(cookie, docName.board(room)))
    const [me] = await openAll(asPerson(cookie, docName.me(hal.member.id)))
    expect(meConversationsOf(me!.doc).has(room)).toBe(true)

    expect((await w.ada.client.delete(`/api/conversations/${room}/members/${hal.member.id}`)).status).toBe(200)
    await waitFor(() => gone.every((o) => o.codes.length === 1), 5000, 'the channel\'s sockets closed')
    expect(gone.map((o) => o.codes[0])).toEqual([closeCode.revoked, closeCode.revoked])
    await waitFor(() => !meConversationsOf(me!.doc).has(room), 5000, 'the sidebar entry removed live')
    expect(me!.codes).toEqual([])
    expect((await hal.client.get(`/api/conversations/${room}/messages`)).status).toBe(404)
    expect(await upgradeStatus(`/sync/${docName.conv(room, 0)}`, cookieHeaders(cookie))).toBe(403)
  })
})

describe('bot token rotation', () => {
  it('closes the old token\'s /agent-socket and sync sockets; the new token works', async () => {
    const agent = await provision(w.ada.client, { name: 'Rota', handle: 'rota', adapter: 'socket', channelIds: [w.channelId] })
    const hub = await agentSocket(agent.botToken)
    const docs = await openAll(asBot(agent.botToken, docName.conv(w.channelId, 0)), asBot(agent.botToken, docName.me(agent.memberId)))
    const res = await w.ada.client.post(`/api/agents/${agent.id}/rotate-token`)
    expect(res.status).toBe(200)
    expect(await hub.closed).toBe(closeCode.unauthorized)
    await waitFor(() => docs.every((o) => o.codes.length === 1), 5000, 'the old token\'s sync sockets closed')
    expect(docs.map((o) => o.codes[0])).toEqual([closeCode.unauthorized, closeCode.unauthorized])
    expect(await upgradeStatus(`/sync/${docName.me(agent.memberId)}?token=${agent.botToken}`)).toBe(401)
    const [fresh] = await openAll(asBot(res.body.botToken, docName.conv(w.channelId, 0)))
    expect(fresh!.codes).toEqual([])
    const again = await agentSocket(res.body.botToken)
    expect(again.hello).toMatchObject({ type: 'hello', agentId: agent.id })
  })
})

describe('segments beyond the live one', () => {
  it('are refused at upgrade and nothing is stored for them', async () => {
    const rows = (name: string) => sql().prepare('SELECT count(*) FROM doc_updates WHERE doc = ?').pluck().get(name) as number
    const cookie = w.bob.client.cookie!
    for (const n of [1, 2, 999_999_999]) {
      expect(await upgradeStatus(`/sync/${docName.conv(w.channelId, n)}`, cookieHeaders(cookie))).toBe(403)
      expect(rows(docName.conv(w.channelId, n))).toBe(0)
    }
    expect(await upgradeStatus(`/sync/${docName.conv(w.channelId, 0)}`, cookieHeaders(cookie))).toBe(101)
  })
})

/** A socket agent on /agent-socket: resolves once the hello arrives; `closed` gives the close code. */
async function agentSocket(token: string): Promise<{ hello: unknown; closed: Promise<number> }> {
  const ws = new WebSocket(wsUrl(`/agent-socket?token=${token}`))
  raws.push(ws)
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  const hello = await new Promise<unknown>((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))))
    void closed.then((code) => reject(new Error(`agent socket closed ${code}`)))
  })
  return { hello, closed }
}
