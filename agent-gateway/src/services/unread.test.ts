import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebsocketProvider } from 'y-websocket'
import { docName, markRead, meUnreadOf } from '@circlechat/model'
import { Client, startTeam, type Team } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'
import { UNREAD_CAP } from './unread.js'

type Person = { client: Client; member: { id: string } }

describe('unread counts (live in the me doc)', () => {
  let server: Team['server']
  let ada: Person, bob: Person, cy: Person
  let general: string
  let tabs: WebsocketProvider[]

  const post = async (who: Person, conversationId: string, bodyMd: string, parentId?: string) => {
    const res = await who.client.post(`/api/conversations/${conversationId}/messages`, { bodyMd, parentId })
    expect(res.status).toBe(201)
    return res.body.message as { id: string; createdAt: number }
  }
  const unreadIn = (tab: WebsocketProvider, id = general) => meUnreadOf(tab.doc).get(id) ?? null
  /** Both tabs of bob show the same figure (they sync one me doc). */
  const bothTabs = async (id: string, want: { count: number; mentions: number }) => {
    for (const tab of tabs) await expect.poll(() => unreadIn(tab, id), { timeout: 5000 }).toEqual(want)
  }

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
    tabs = [0, 1].map(() => syncClient(server.url, bob.client.cookie!, docName.me(bob.member.id)))
    await Promise.all(tabs.map(whenSynced))
  })
  afterAll(async () => {
    for (const t of tabs) t.destroy()
    await server.close()
  })

  it('shows a newly added member the history they have not read, at once', async () => {
    const room = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'late-join', memberIds: [cy.member.id] })).body.conversation.id
    await post(ada, room, 'before bob')
    await post(cy, room, 'also before bob, @bob')
    expect((await ada.client.post(`/api/conversations/${room}/members`, { memberIds: [bob.member.id] })).status).toBe(200)
    await bothTabs(room, { count: 2, mentions: 1 })
  })

  it('counts others\' top-level posts live, mentions (incl. @everyone) separately, in every tab', async () => {
    const first = await post(ada, general, 'hello team')
    await bothTabs(general, { count: 1, mentions: 0 })
    await post(ada, general, 'hey @bob, a look?')
    await bothTabs(general, { count: 2, mentions: 1 })
    await post(cy, general, '@everyone standup in 5')
    await bothTabs(general, { count: 3, mentions: 2 })
    await post(ada, general, '@cy only')
    await bothTabs(general, { count: 4, mentions: 2 })
    // Bob's own posts and thread replies are not unread for him.
    await post(bob, general, 'on my way')
    await post(ada, general, 'a reply @bob', first.id)
    await server.gateway.sync.transact(docName.me(bob.member.id), { source: 'server', reason: 'test barrier' }, () => {})
    await new Promise((r) => setTimeout(r, 100))
    await bothTabs(general, { count: 4, mentions: 2 })

    const listed = (await bob.client.get('/api/conversations')).body.conversations.find((c: { id: string }) => c.id === general)
    expect(listed).toMatchObject({ unreadCount: 4, unreadMentions: 2 })
  })

  it('a read marker written by one tab over sync resets the figure in both tabs', async () => {
    const list = (await bob.client.get(`/api/conversations/${general}/messages`)).body.messages as Array<{ bodyMd: string; createdAt: number }>
    const second = list.find((m) => m.bodyMd.startsWith('hey @bob'))!
    markRead(tabs[0]!.doc, general, second.createdAt)
    // Left after the marker: cy's @everyone and ada's "@cy only" (bob's own post never counts).
    await bothTabs(general, { count: 2, mentions: 1 })
  })

  it('a deleted message stops counting', async () => {
    const list = (await ada.client.get(`/api/conversations/${general}/messages`)).body.messages as Array<{ id: string; bodyMd: string }>
    const everyone = list.find((m) => m.bodyMd.startsWith('@everyone'))!
    expect((await ada.client.delete(`/api/messages/${everyone.id}`)).status).toBe(200)
    await bothTabs(general, { count: 1, mentions: 0 })
  })

  it('an edit that adds a mention counts it; a reaction changes nothing', async () => {
    const list = (await ada.client.get(`/api/conversations/${general}/messages`)).body.messages as Array<{ id: string; bodyMd: string }>
    const cyOnly = list.find((m) => m.bodyMd === '@cy only')!
    expect((await ada.client.patch(`/api/messages/${cyOnly.id}`, { bodyMd: '@cy and @bob' })).status).toBe(200)
    await bothTabs(general, { count: 1, mentions: 1 })
    expect((await cy.client.post(`/api/messages/${cyOnly.id}/reactions`, { emoji: '👍' })).status).toBe(200)
    await new Promise((r) => setTimeout(r, 100))
    await bothTabs(general, { count: 1, mentions: 1 })
  })

  it('POST /api/conversations/:id/read marks everything read', async () => {
    const res = await bob.client.post(`/api/conversations/${general}/read`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ unread: { count: 0, mentions: 0 } })
    await bothTabs(general, { count: 0, mentions: 0 })
    expect((await cy.client.post('/api/conversations/conversation_aaaaaaaaaaaaaaaa/read')).status).toBe(404)
  })

  it('never counts a private channel for a non-member, and stops counting for one who left', async () => {
    const priv = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true, memberIds: [bob.member.id] })).body.conversation.id
    await post(ada, priv, 'psst @everyone')
    await bothTabs(priv, { count: 1, mentions: 1 })
    const cyMe = await server.gateway.sync.getDoc(docName.me(cy.member.id))
    expect(meUnreadOf(cyMe).has(priv)).toBe(false)
    expect((await cy.client.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)).not.toContain(priv)

    expect((await bob.client.post(`/api/conversations/${priv}/leave`)).status).toBe(200)
    await post(ada, priv, 'after bob left @everyone')
    await new Promise((r) => setTimeout(r, 200))
    for (const tab of tabs) expect(unreadIn(tab, priv)).toBeNull()
    expect(meUnreadOf(cyMe).has(priv)).toBe(false)
  })
  it('advances the live figure by every row added since, and past the cap recounts the mentions among the newest', async () => {
    const room = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'advance', memberIds: [bob.member.id] })).body.conversation.id
    const insert = server.gateway.db.$client.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
      VALUES (?, ?, ?, NULL, ?, ?, 0, 'bulk', ?, '[]', '[]')`)
    // Rows written without a change event (as by another writer) count once the next post arrives.
    const bulk = (n: number, prefix: string, createdAt: number, mentions = '[]') => server.gateway.db.$client.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(`msg_${prefix}${String(i).padStart(12, '0')}`, room, `conv:${room}:0`, ada.member.id, createdAt, mentions)
    })()
    const first = await post(ada, room, 'hey @bob')
    await bothTabs(room, { count: 1, mentions: 1 })
    bulk(2, 'adva', first.createdAt + 1, '["everyone"]')
    await post(bob, room, 'my own post')
    await bothTabs(room, { count: 3, mentions: 3 })
    bulk(UNREAD_CAP - 4, 'advb', first.createdAt + 1)
    await new Promise((r) => setTimeout(r, 5))
    await post(ada, room, 'reaching the cap')
    await bothTabs(room, { count: UNREAD_CAP, mentions: 3 })
    // One more pushes the oldest, "hey @bob", out of the newest UNREAD_CAP.
    await post(ada, room, 'past the cap')
    await bothTabs(room, { count: UNREAD_CAP, mentions: 2 })
  })

  it('caps a figure at UNREAD_CAP (a client shows "999+"), counting mentions among the newest', async () => {
    const big = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'firehose', memberIds: [cy.member.id] })).body.conversation.id
    const insert = server.gateway.db.$client.prepare(`INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, deleted, body, mentions, attachments, reactions)
      VALUES (?, ?, ?, NULL, ?, ?, 0, 'bulk', ?, '[]', '[]')`)
    const t0 = Date.now() - 10_000
    server.gateway.db.$client.transaction(() => {
      for (let i = 0; i < UNREAD_CAP + 5; i++) insert.run(`msg_bulk${String(i).padStart(12, '0')}`, big, `conv:${big}:0`, ada.member.id, t0 + i, i < 5 ? '["everyone"]' : '[]')
    })()
    const listed = (await cy.client.get('/api/conversations')).body.conversations.find((c: { id: string }) => c.id === big)
    // The five @everyone posts are the oldest: outside the newest UNREAD_CAP.
    expect(listed).toMatchObject({ unreadCount: UNREAD_CAP, unreadMentions: 0 })
  })
})
