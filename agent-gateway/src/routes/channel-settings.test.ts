import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, meConversationsOf } from '@circlechat/model'
import { Client, addPerson, startTeam, type Team } from '../test/harness.js'

/** Topic, rename, archive, removing members and pins: who may do what, checked on every call. */
describe('channel settings routes', () => {
  let server: Team['server']
  let ada: { client: Client; member: { id: string } }
  let bob: { client: Client; member: { id: string } }
  let cy: { client: Client; member: { id: string } }
  let dee: { client: Client; member: { id: string } }

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
    dee = await addPerson(server.url, ada.client, 'dee')
  })
  afterAll(async () => {
    await server?.close()
  })

  const summaryOf = async (memberId: string, id: string) => meConversationsOf(await server.gateway.sync.getDoc(docName.me(memberId))).get(id)
  /** A channel bob (a plain member) created, with cy in it. */
  async function bobsChannel(name: string): Promise<string> {
    const res = await bob.client.post('/api/conversations', { kind: 'channel', name, memberIds: [cy.member.id] })
    expect(res.status).toBe(201)
    return res.body.conversation.id
  }

  it('any member sets topic and description; only the creator or an admin renames', async () => {
    const id = await bobsChannel('launch')
    const topic = await cy.client.patch(`/api/conversations/${id}`, { topic: '  Ship on Friday ', description: 'Everything about the launch.' })
    expect(topic.status).toBe(200)
    expect(topic.body.conversation).toMatchObject({ topic: 'Ship on Friday', description: 'Everything about the launch.', createdBy: bob.member.id, archivedAt: null })
    expect(await summaryOf(bob.member.id, id)).toMatchObject({ topic: 'Ship on Friday', description: 'Everything about the launch.' })

    const byCy = await cy.client.patch(`/api/conversations/${id}`, { name: 'launch-2' })
    expect(byCy.status).toBe(403)
    expect(byCy.body.error).toBe('not_channel_manager')
    expect((await bob.client.patch(`/api/conversations/${id}`, { name: 'launch-2' })).body.conversation.name).toBe('launch-2')
    expect((await ada.client.post(`/api/conversations/${id}/join`)).status).toBe(200)
    expect((await ada.client.patch(`/api/conversations/${id}`, { name: 'launch-3' })).status).toBe(200)
    expect(await summaryOf(cy.member.id, id)).toMatchObject({ name: 'launch-3' })
    // Not a member: the same 404 as a missing channel.
    expect((await dee.client.patch(`/api/conversations/${id}`, { topic: 'x' })).status).toBe(404)
  })

  it('refuses bad input with 400 and a taken name with 409', async () => {
    const id = await bobsChannel('inputs')
    for (const body of [{}, { name: 'Bad Name' }, { topic: 'x'.repeat(251) }, { description: 'x'.repeat(1001) }, { isPrivate: true }]) {
      const res = await bob.client.patch(`/api/conversations/${id}`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_input', message: expect.any(String) })
    }
    expect((await bob.client.patch(`/api/conversations/${id}`, { name: 'launch-3' })).body.error).toBe('name_taken')
    const dm = await bob.client.post('/api/conversations', { kind: 'dm', memberIds: [cy.member.id] })
    expect((await bob.client.patch(`/api/conversations/${dm.body.conversation.id}`, { topic: 'x' })).body.error).toBe('not_a_channel')
    expect((await bob.client.post(`/api/conversations/${dm.body.conversation.id}/archive`)).status).toBe(400)
  })

  it('archives read-only for REST writes, keeps it readable, and unarchives; only the creator or an admin', async () => {
    const id = await bobsChannel('old-project')
    const msg = await cy.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'last words' })
    expect((await cy.client.post(`/api/conversations/${id}/archive`)).status).toBe(403)
    const archived = await bob.client.post(`/api/conversations/${id}/archive`)
    expect(archived.status).toBe(200)
    expect(archived.body.conversation.archivedAt).toEqual(expect.any(Number))
    expect((await summaryOf(cy.member.id, id))?.archivedAt).toEqual(expect.any(Number))

    for (const res of [
      await cy.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'still here?' }),
      await cy.client.patch(`/api/messages/${msg.body.message.id}`, { bodyMd: 'edited' }),
      await cy.client.post(`/api/messages/${msg.body.message.id}/reactions`, { emoji: '👍' }),
      await cy.client.post(`/api/messages/${msg.body.message.id}/pin`),
      await cy.client.patch(`/api/conversations/${id}`, { topic: 'new' }),
      await cy.client.post('/api/tasks', { conversationId: id, title: 'Revive it' })
    ]) {
      expect(res.status).toBe(409)
      expect(res.body).toMatchObject({ error: 'conversation_archived', message: expect.stringContaining('archived') })
    }
    const history = await cy.client.get(`/api/conversations/${id}/messages`)
    expect(history.body.messages.map((m: { bodyMd: string }) => m.bodyMd)).toEqual(['last words'])
    const found = await cy.client.get(`/api/search?q=last`)
    expect(found.body.results.map((r: { conversationId: string }) => r.conversationId)).toContain(id)

    expect((await cy.client.post(`/api/conversations/${id}/unarchive`)).status).toBe(403)
    expect((await ada.client.post(`/api/conversations/${id}/join`)).status).toBe(200)
    expect((await ada.client.post(`/api/conversations/${id}/unarchive`)).body.conversation.archivedAt).toBeNull()
    expect((await cy.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'back' })).status).toBe(201)
  })

  it('removes a member (creator or admin only); the removed member loses access at once', async () => {
    const id = await bobsChannel('crew')
    expect((await bob.client.post(`/api/conversations/${id}/members`, { memberIds: [dee.member.id] })).status).toBe(200)
    const byCy = await cy.client.delete(`/api/conversations/${id}/members/${dee.member.id}`)
    expect(byCy.status).toBe(403)
    expect(byCy.body.error).toBe('not_channel_manager')
    expect((await bob.client.delete(`/api/conversations/${id}/members/${bob.member.id}`)).body.error).toBe('cannot_remove_self')
    const removed = await bob.client.delete(`/api/conversations/${id}/members/${dee.member.id}`)
    expect(removed.status).toBe(200)
    expect(removed.body.conversation.memberIds).not.toContain(dee.member.id)
    expect(await summaryOf(dee.member.id, id)).toBeUndefined()
    expect((await dee.client.get(`/api/conversations/${id}/messages`)).status).toBe(404)
    expect((await bob.client.delete(`/api/conversations/${id}/members/${dee.member.id}`)).body.error).toBe('member_not_found')
  })

  it('pins and unpins a message for every member, listed newest first; non-members get 404', async () => {
    const id = await bobsChannel('pins')
    const one = (await bob.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'the plan' })).body.message
    const two = (await cy.client.post(`/api/conversations/${id}/messages`, { bodyMd: 'the date' })).body.message
    expect((await cy.client.post(`/api/messages/${one.id}/pin`)).status).toBe(200)
    expect((await bob.client.post(`/api/messages/${two.id}/pin`)).status).toBe(200)
    expect((await bob.client.post(`/api/messages/${two.id}/pin`)).status).toBe(200)
    const list = await cy.client.get(`/api/conversations/${id}/pins`)
    expect(list.body.pins.map((p: { message: { bodyMd: string }; pinnedBy: string }) => [p.message.bodyMd, p.pinnedBy])).toEqual([
      ['the date', bob.member.id], ['the plan', cy.member.id]
    ])
    expect((await summaryOf(cy.member.id, id))?.pins).toEqual([one.id, two.id])

    expect((await dee.client.get(`/api/conversations/${id}/pins`)).status).toBe(404)
    expect((await dee.client.post(`/api/messages/${one.id}/pin`)).status).toBe(404)
    expect((await bob.client.delete(`/api/messages/${one.id}/pin`)).status).toBe(200)
    expect((await summaryOf(bob.member.id, id))?.pins).toEqual([two.id])
    expect((await cy.client.get(`/api/conversations/${id}/pins`)).body.pins).toHaveLength(1)
  })
})
