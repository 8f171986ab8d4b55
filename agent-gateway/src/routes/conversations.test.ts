import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dirChannelsOf, dirMembersOf, docName, meConversationsOf } from '@circlechat/model'
import { Client, startTeam, type Team } from '../test/harness.js'

describe('conversation routes', () => {
  let server: Team['server']
  let ada: Team['ada']
  let bob: Team['bob']
  let cy: Team['cy']

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
  })
  afterAll(async () => {
    await server?.close()
  })

  const doc = (name: string) => server.gateway.sync.getDoc(name)

  it('creates a public channel (201), lists it, and publishes it to the directory and me docs', async () => {
    const res = await ada.client.post('/api/conversations', { kind: 'channel', name: 'design', topic: 'pixels', memberIds: [bob.member.id] })
    expect(res.status).toBe(201)
    const c = res.body.conversation
    expect(c).toMatchObject({ kind: 'channel', name: 'design', topic: 'pixels', isPrivate: false, liveSegment: 0, unreadCount: 0, unreadMentions: 0 })
    expect(new Set(c.memberIds)).toEqual(new Set([ada.member.id, bob.member.id]))

    const mine = await bob.client.get('/api/conversations')
    expect(mine.body.conversations.map((x: { id: string }) => x.id)).toContain(c.id)
    // The directory lists no channels (guests read it too); browse is REST.
    expect(dirChannelsOf(await doc(docName.dir(ada.workspace.id))).get(c.id)).toBeUndefined()
    expect(meConversationsOf(await doc(docName.me(bob.member.id))).get(c.id)).toMatchObject({ name: 'design', liveSegment: 0 })
    expect(dirMembersOf(await doc(docName.dir(ada.workspace.id))).get(bob.member.id)).toMatchObject({ handle: 'bob', kind: 'user' })
  })

  it('refuses a taken name (409) and a bad name (400)', async () => {
    const dup = await bob.client.post('/api/conversations', { kind: 'channel', name: 'design' })
    expect(dup.status).toBe(409)
    expect(dup.body.error).toBe('name_taken')
    for (const name of ['Design', '-x', '', 'a b', 'x'.repeat(81)]) {
      const bad = await bob.client.post('/api/conversations', { kind: 'channel', name })
      expect(bad.status).toBe(400)
      expect(bad.body.error).toBe('invalid_input')
    }
    expect((await bob.client.post('/api/conversations', { kind: 'group', name: 'x' })).status).toBe(400)
    const unknown = await bob.client.post('/api/conversations', { kind: 'channel', name: 'ghosts', memberIds: ['m_aaaaaaaaaaaaaaaa'] })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toBe('unknown_member')
  })

  it('keeps a private channel invisible to non-members', async () => {
    const res = await ada.client.post('/api/conversations', { kind: 'channel', name: 'board-room', isPrivate: true })
    const id = res.body.conversation.id
    const browse = await cy.client.get('/api/conversations/browse')
    expect(browse.body.channels.map((c: { name: string }) => c.name)).not.toContain('board-room')
    expect((await cy.client.get('/api/conversations')).body.conversations.map((c: { id: string }) => c.id)).not.toContain(id)
    for (const res of [
      await cy.client.post(`/api/conversations/${id}/join`),
      await cy.client.get(`/api/conversations/${id}/messages`),
      await cy.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'hi' }),
      await cy.client.post(`/api/conversations/${id}/members`, { memberIds: [cy.member.id] })
    ]) {
      expect(res.status).toBe(404)
      expect(res.body.error).toBe('conversation_not_found')
    }
    expect(dirChannelsOf(await doc(docName.dir(ada.workspace.id))).get(id)).toBeUndefined()
    // One conversation by id: the same 404 as for one that does not exist.
    for (const missing of [id, 'c_aaaaaaaaaaaaaaaa']) {
      const one = await cy.client.get(`/api/conversations/${missing}`)
      expect(one.status).toBe(404)
      expect(one.body).toMatchObject({ error: 'conversation_not_found' })
      expect(JSON.stringify(one.body)).not.toContain('board-room')
    }
    expect((await ada.client.get(`/api/conversations/${id}`)).body.conversation).toMatchObject({ id, name: 'board-room', isPrivate: true, liveSegment: 0, archivedAt: null })
    // A member adds cy; now cy sees it.
    const added = await ada.client.post(`/api/conversations/${id}/members`, { memberIds: [cy.member.id] })
    expect(added.status).toBe(200)
    expect(added.body.conversation.memberIds).toContain(cy.member.id)
    expect((await cy.client.get(`/api/conversations/${id}/messages`)).status).toBe(200)
    expect((await cy.client.get(`/api/conversations/${id}`)).body.conversation.memberIds).toContain(cy.member.id)
  })

  it('browse lists public channels with member counts; join and leave', async () => {
    const browse = await cy.client.get('/api/conversations/browse')
    const design = browse.body.channels.find((c: { name: string }) => c.name === 'design')
    expect(design).toMatchObject({ memberCount: 2, joined: false, topic: 'pixels' })
    const joined = await cy.client.post(`/api/conversations/${design.id}/join`)
    expect(joined.status).toBe(200)
    expect(joined.body.conversation.memberIds).toContain(cy.member.id)
    expect(meConversationsOf(await doc(docName.me(ada.member.id))).get(design.id)?.memberIds).toContain(cy.member.id)
    expect((await cy.client.get('/api/conversations/browse')).body.channels.find((c: { id: string }) => c.id === design.id)).toMatchObject({ memberCount: 3, joined: true })

    const left = await cy.client.post(`/api/conversations/${design.id}/leave`)
    expect(left.body).toEqual({ ok: true })
    expect(meConversationsOf(await doc(docName.me(cy.member.id))).get(design.id)).toBeUndefined()
    expect((await cy.client.get(`/api/conversations/${design.id}/messages`)).status).toBe(404)
    // Read at the moment of asking: having left, not even a public channel is answered by id.
    expect((await cy.client.get(`/api/conversations/${design.id}`)).status).toBe(404)
    expect((await cy.client.get('/api/conversations/browse')).body.channels.find((c: { id: string }) => c.id === design.id)).toMatchObject({ memberCount: 2, joined: false })
    expect((await cy.client.post(`/api/conversations/${design.id}/leave`)).status).toBe(404)
  })

  it('the same set of people always gets the same DM', async () => {
    const first = await ada.client.post('/api/conversations', { kind: 'dm', memberIds: [bob.member.id] })
    expect(first.status).toBe(201)
    expect(first.body.conversation).toMatchObject({ kind: 'dm', isPrivate: true })
    expect([...first.body.conversation.memberIds].sort()).toEqual([ada.member.id, bob.member.id].sort())
    const again = await bob.client.post('/api/conversations', { kind: 'dm', memberIds: [ada.member.id, bob.member.id] })
    expect(again.status).toBe(200)
    expect(again.body.conversation.id).toBe(first.body.conversation.id)
    const group = await bob.client.post('/api/conversations', { kind: 'dm', memberIds: [ada.member.id, cy.member.id] })
    expect(group.status).toBe(201)
    expect(group.body.conversation.id).not.toBe(first.body.conversation.id)
    // cy is not in the first DM.
    expect((await cy.client.get(`/api/conversations/${first.body.conversation.id}/messages`)).status).toBe(404)
    expect((await ada.client.post('/api/conversations', { kind: 'dm', memberIds: [] })).status).toBe(400)
    const leave = await ada.client.post(`/api/conversations/${first.body.conversation.id}/leave`)
    expect(leave.status).toBe(400)
  })

  it('requires a session', async () => {
    const anon = new Client(server.url)
    expect((await anon.get('/api/conversations')).status).toBe(401)
    expect((await anon.get('/api/conversations/c_aaaaaaaaaaaaaaaa')).status).toBe(401)
    expect((await anon.post('/api/conversations', { kind: 'channel', name: 'x' })).status).toBe(401)
    expect((await anon.get('/api/members')).status).toBe(401)
  })
})
