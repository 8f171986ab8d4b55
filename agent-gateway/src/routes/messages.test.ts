import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agents, members } from '@circlechat/db'
import { appendMessage, docName, listMessages, newId } from '@circlechat/model'
import { createApp } from '../app.js'
import { hashSecret, newBotToken } from '../auth/tokens.js'
import { Client, addPerson, signupAdmin, startTestServer } from '../test/harness.js'

const tick = () => new Promise((r) => setTimeout(r, 3))

describe('message routes', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: { client: Client; member: { id: string }; workspace: { id: string } }
  let bob: { client: Client; member: { id: string } }
  let cy: { client: Client; member: { id: string } }
  let channelId: string

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    cy = await addPerson(server.url, ada.client, 'cy')
    const res = await bob.client.post('/api/conversations', { kind: 'channel', name: 'eng', memberIds: [ada.member.id] })
    channelId = res.body.conversation.id
  })
  afterAll(async () => {
    await server.close()
  })

  const msgs = (id = channelId) => `/api/conversations/${id}/messages`

  it('posts a message into the live segment doc and answers with it (201)', async () => {
    const res = await bob.client.post(msgs(), { bodyMd: 'hello @ada and @nobody, @channel' })
    expect(res.status).toBe(201)
    const m = res.body.message
    expect(m).toMatchObject({ conversationId: channelId, memberId: bob.member.id, bodyMd: 'hello @ada and @nobody, @channel', parentId: null, deleted: false, editedAt: null, threadCount: 0, reactions: [], attachments: [] })
    expect(m.id).toMatch(/^msg_/)
    expect(new Date(m.ts).getTime()).toBe(m.createdAt)
    expect(new Set(m.mentions)).toEqual(new Set(['channel', ada.member.id]))
    const inDoc = listMessages(await server.gateway.sync.getDoc(docName.conv(channelId, 0)))
    expect(inDoc.map((x) => x.id)).toContain(m.id)
    // Readable right away: the relay indexes in the same transaction.
    const list = await ada.client.get(msgs())
    expect(list.body.messages.at(-1)).toEqual(m)
  })

  it('lists oldest → newest and paginates with before/limit/hasMore', async () => {
    const conv = await ada.client.post('/api/conversations', { kind: 'channel', name: 'pages' })
    const id = conv.body.conversation.id
    const posted: string[] = []
    for (let i = 0; i < 5; i++) {
      posted.push((await ada.client.post(msgs(id), { bodyMd: `m${i}` })).body.message.id)
      await tick() // distinct createdAt: the cursor is in milliseconds
    }
    const page1 = await ada.client.get(`${msgs(id)}?limit=2`)
    expect(page1.body.messages.map((m: { bodyMd: string }) => m.bodyMd)).toEqual(['m3', 'm4'])
    expect(page1.body.hasMore).toBe(true)
    const page2 = await ada.client.get(`${msgs(id)}?limit=2&before=${page1.body.messages[0].createdAt}`)
    expect(page2.body.messages.map((m: { bodyMd: string }) => m.bodyMd)).toEqual(['m1', 'm2'])
    expect(page2.body.hasMore).toBe(true)
    const page3 = await ada.client.get(`${msgs(id)}?limit=2&before=${page2.body.messages[0].createdAt}`)
    expect(page3.body.messages.map((m: { bodyMd: string }) => m.bodyMd)).toEqual(['m0'])
    expect(page3.body.hasMore).toBe(false)
    const all = await ada.client.get(msgs(id))
    expect(all.body.messages.map((m: { id: string }) => m.id)).toEqual(posted)
    expect(all.body.hasMore).toBe(false)
  })

  it('pages 300 messages sharing one millisecond with nextCursor: each exactly once, in order', async () => {
    const conv = await ada.client.post('/api/conversations', { kind: 'channel', name: 'same-ms' })
    const id = conv.body.conversation.id
    const createdAt = Date.now() - 60_000
    // Server-authored through the model helpers, as REST and agents write: three edits of 100.
    const posted: string[] = []
    for (let batch = 0; batch < 3; batch++) {
      posted.push(...(await server.gateway.sync.transact(docName.conv(id, 0), { source: 'rest', memberId: ada.member.id }, (doc) =>
        Array.from({ length: 100 }, (_, i) => appendMessage(doc, { author: ada.member.id, body: `same ${batch * 100 + i}`, createdAt })))))
    }
    const pages: Array<Array<{ id: string; createdAt: number }>> = []
    let cursor: string | null = null
    do {
      const res: { status: number; body: any } = await ada.client.get(`${msgs(id)}?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.status).toBe(200)
      expect(res.body.nextCursor === null).toBe(!res.body.hasMore)
      pages.push(res.body.messages)
      cursor = res.body.nextCursor
    } while (cursor && pages.length < 20)
    expect(pages).toHaveLength(6)
    const all = pages.reverse().flat()
    expect(all).toHaveLength(300)
    expect(new Set(all.map((m) => m.id))).toEqual(new Set(posted))
    // Oldest → newest across pages: (createdAt, id) ascending, as each page is.
    const key = (m: { createdAt: number; id: string }) => [m.createdAt, m.id] as const
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [key(all[i - 1]!), key(all[i]!)]
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true)
    }
    // Old clients' before=<ms> still pages by time.
    const old = await ada.client.get(`${msgs(id)}?limit=50&before=${createdAt + 1}`)
    expect(old.body.messages).toHaveLength(50)
    expect(old.body.hasMore).toBe(true)
    // A cursor that is not one of ours is a 400, not a 500.
    expect((await ada.client.get(`${msgs(id)}?cursor=not-a-cursor`)).status).toBe(400)
  })

  it('Idempotency-Key: a retry answers 200 with the first message and posts nothing', async () => {
    const conv = await ada.client.post('/api/conversations', { kind: 'channel', name: 'retries', memberIds: [bob.member.id] })
    const id = conv.body.conversation.id
    const post = (who: Client, body: string, key: string) => who.request('POST', msgs(id), { bodyMd: body }, { 'idempotency-key': key })
    const first = await post(ada.client, 'once only', 'key-1')
    expect(first.status).toBe(201)
    const retry = await post(ada.client, 'once only', 'key-1')
    expect(retry.status).toBe(200)
    expect(retry.body.message).toMatchObject({ id: first.body.message.id, bodyMd: 'once only', memberId: ada.member.id })
    // Concurrent retries share one post.
    const burst = await Promise.all(Array.from({ length: 5 }, () => post(ada.client, 'burst', 'key-2')))
    expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201])
    expect(new Set(burst.map((r) => r.body.message.id)).size).toBe(1)
    // Keys are per member: bob's key-1 is his own post.
    const bobs = await post(bob.client, 'once only', 'key-1')
    expect(bobs.status).toBe(201)
    expect(bobs.body.message.id).not.toBe(first.body.message.id)
    // A key reused for a different post is refused, not silently answered with the old one.
    const reused = await post(ada.client, 'something else', 'key-1')
    expect(reused.status).toBe(409)
    expect(reused.body.error).toBe('idempotency_key_reused')
    expect((await post(ada.client, 'x', 'has spaces')).status).toBe(400)
    const stored = (await ada.client.get(msgs(id))).body.messages.map((m: { bodyMd: string; memberId: string }) => [m.memberId, m.bodyMd])
    expect(stored).toEqual([[ada.member.id, 'once only'], [ada.member.id, 'burst'], [bob.member.id, 'once only']])
  })

  it('threads: replies go to the thread doc, are listed by parent_id, and count on the root', async () => {
    const root = (await ada.client.post(msgs(), { bodyMd: 'thread root' })).body.message
    const reply = await bob.client.post(msgs(), { bodyMd: 'a reply', parentId: root.id })
    expect(reply.status).toBe(201)
    expect(reply.body.message).toMatchObject({ parentId: root.id, conversationId: channelId })
    expect(listMessages(await server.gateway.sync.getDoc(docName.thread(root.id))).map((m) => m.id)).toEqual([reply.body.message.id])

    const top = await ada.client.get(msgs())
    expect(top.body.messages.map((m: { id: string }) => m.id)).not.toContain(reply.body.message.id)
    const thread = await ada.client.get(`${msgs()}?parent_id=${root.id}`)
    expect(thread.body.messages.map((m: { id: string }) => m.id)).toEqual([reply.body.message.id])

    // The relay records the reply count on the root after the reply commits.
    await expect.poll(async () => (await ada.client.get(msgs())).body.messages.find((m: { id: string }) => m.id === root.id)?.threadCount).toBe(1)

    const noRoot = await bob.client.post(msgs(), { bodyMd: 'x', parentId: 'msg_aaaaaaaaaaaaaaaa' })
    expect(noRoot.status).toBe(404)
    expect(noRoot.body.error).toBe('parent_not_found')
    const nested = await bob.client.post(msgs(), { bodyMd: 'x', parentId: reply.body.message.id })
    expect(nested.status).toBe(404)
  })

  it('gets one message with the doc holding it; 404 for a non-member', async () => {
    const root = (await ada.client.post(msgs(), { bodyMd: 'find me' })).body.message
    const reply = (await bob.client.post(msgs(), { bodyMd: 'and me', parentId: root.id })).body.message
    const got = await bob.client.get(`/api/messages/${root.id}`)
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({ message: { id: root.id, conversationId: channelId, bodyMd: 'find me' }, doc: docName.conv(channelId, 0) })
    expect((await ada.client.get(`/api/messages/${reply.id}`)).body.doc).toBe(docName.thread(root.id))
    expect((await cy.client.get(`/api/messages/${root.id}`)).status).toBe(404)
    expect((await cy.client.get('/api/messages/msg_nope')).status).toBe(404)
  })

  it('edits: author only; mentions re-resolved', async () => {
    const m = (await bob.client.post(msgs(), { bodyMd: 'draft' })).body.message
    const byOther = await ada.client.patch(`/api/messages/${m.id}`, { bodyMd: 'hijack' })
    expect(byOther.status).toBe(403)
    expect(byOther.body.error).toBe('not_author')
    const ok = await bob.client.patch(`/api/messages/${m.id}`, { bodyMd: 'final @ada' })
    expect(ok.status).toBe(200)
    expect(ok.body.message).toMatchObject({ id: m.id, bodyMd: 'final @ada', mentions: [ada.member.id] })
    expect(ok.body.message.editedAt).toBeGreaterThanOrEqual(m.createdAt)
    const listed = (await ada.client.get(msgs())).body.messages.find((x: { id: string }) => x.id === m.id)
    expect(listed.bodyMd).toBe('final @ada')
    expect((await bob.client.patch(`/api/messages/${m.id}`, { bodyMd: '   ' })).status).toBe(400)
    expect((await bob.client.patch('/api/messages/msg_aaaaaaaaaaaaaaaa', { bodyMd: 'x' })).status).toBe(404)
  })

  it('deletes: the author or an admin; others get 403; non-members get 404', async () => {
    const byBob = (await bob.client.post(msgs(), { bodyMd: 'oops' })).body.message
    const other = await addPerson(server.url, ada.client, 'dee')
    await other.client.post(`/api/conversations/${channelId}/join`)
    expect((await other.client.delete(`/api/messages/${byBob.id}`)).status).toBe(403)
    expect((await cy.client.delete(`/api/messages/${byBob.id}`)).status).toBe(404) // not in the channel
    expect((await bob.client.delete(`/api/messages/${byBob.id}`)).body).toEqual({ ok: true })
    const listed = (await ada.client.get(msgs())).body.messages.find((x: { id: string }) => x.id === byBob.id)
    expect(listed).toMatchObject({ deleted: true, bodyMd: '' })
    expect((await bob.client.patch(`/api/messages/${byBob.id}`, { bodyMd: 'back' })).status).toBe(409)

    const another = (await bob.client.post(msgs(), { bodyMd: 'moderate me' })).body.message
    expect((await ada.client.delete(`/api/messages/${another.id}`)).status).toBe(200) // admin
  })

  it('bad input is a 400 (never a 500)', async () => {
    for (const q of ['?limit=0', '?limit=201', '?limit=abc', '?before=-1', '?before=soon']) {
      const res = await ada.client.get(msgs() + q)
      expect(res.status, q).toBe(400)
      expect(res.body.error).toBe('invalid_input')
    }
    for (const body of [{}, { bodyMd: '' }, { bodyMd: 42 }, { bodyMd: 'x'.repeat(40_001) }, { bodyMd: 'x', parentId: 7 }]) {
      const res = await ada.client.post(msgs(), body)
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400)
    }
    expect((await ada.client.request('POST', msgs(), '{oops')).status).toBe(400)
    // Over 1 MiB: refused before it is read. Through app.request(), because over a socket the
    // server answers before the upload ends and fetch reports the closed socket instead.
    const huge = await createApp(server.gateway).request(msgs(), {
      method: 'POST',
      headers: { origin: server.url, cookie: `cc_session=${ada.client.cookie}`, 'content-type': 'application/json' },
      body: JSON.stringify({ bodyMd: 'x'.repeat(1100 * 1024) })
    })
    expect(huge.status).toBe(413)
    expect(await huge.json()).toMatchObject({ error: 'too_large' })
    expect((await ada.client.get('/api/conversations/nope/messages')).status).toBe(404)
  })

  it('limits a chunked body without Content-Length over the socket, and reads one under the limit', async () => {
    const streamed = (json: string) => fetch(server.url + msgs(), {
      method: 'POST', duplex: 'half',
      headers: { origin: server.url, cookie: `cc_session=${ada.client.cookie}`, 'content-type': 'application/json' },
      // Several chunks, so the server sees `Transfer-Encoding: chunked` and must count as it reads.
      body: new Blob([json]).stream().pipeThrough(new TransformStream())
    } as RequestInit)
    const over = await streamed(JSON.stringify({ bodyMd: 'x'.repeat(1100 * 1024) }))
    expect(over.status).toBe(413)
    expect(await over.json()).toEqual({ error: 'too_large', message: 'The request body is over 1 MiB.' })
    const under = await streamed(JSON.stringify({ bodyMd: 'streamed in chunks' }))
    expect(under.status).toBe(201)
    expect((await under.json()).message.bodyMd).toBe('streamed in chunks')
  })

  it('an agent with a bot token posts without Origin (bearer is exempt from CSRF)', async () => {
    const memberId = newId('member')
    const token = newBotToken()
    const db = server.gateway.db
    db.insert(members).values({ id: memberId, workspaceId: ada.workspace.id, kind: 'agent', name: 'Robo', handle: 'robo', role: 'member', createdAt: Date.now() }).run()
    db.insert(agents).values({ id: newId('agent'), memberId, workspaceId: ada.workspace.id, adapter: 'webhook', scopes: [], tokenHash: hashSecret(token), createdAt: Date.now() }).run()
    await ada.client.post(`/api/conversations/${channelId}/members`, { memberIds: [memberId] })

    const bot = new Client(server.url, { origin: null })
    bot.bearer = token
    const me = await bot.get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ user: null, member: { id: memberId, kind: 'agent' } })
    const posted = await bot.post(msgs(), { bodyMd: 'beep @bob' })
    expect(posted.status).toBe(201)
    expect(posted.body.message).toMatchObject({ memberId, mentions: [bob.member.id] })

    bot.bearer = 'cc_wrongtoken'
    expect((await bot.get('/api/me')).status).toBe(401)
  })
})
