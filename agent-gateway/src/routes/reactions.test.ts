import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, findMessage, readMessage } from '@circlechat/model'
import { Client, startTeam, type Team } from '../test/harness.js'

type Person = { client: Client; member: { id: string } }

describe('POST /api/messages/:id/reactions', () => {
  let server: Team['server']
  let ada: Person, bob: Person, cy: Person
  let general: string

  const react = (who: Person, id: string, emoji: unknown) => who.client.post(`/api/messages/${id}/reactions`, { emoji })

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
  })
  afterAll(async () => {
    await server?.close()
  })

  it('toggles my reaction on and off, in the doc and in the index', async () => {
    const m = (await ada.client.post(`/api/conversations/${general}/messages`, { bodyMd: 'ship it?' })).body.message
    const on = await react(bob, m.id, '👍')
    expect(on.status).toBe(200)
    expect(on.body.message).toMatchObject({ id: m.id, reactions: [{ emoji: '👍', memberId: bob.member.id }] })
    const both = await react(ada, m.id, '👍')
    expect(both.body.message.reactions).toHaveLength(2)
    const doc = await server.gateway.sync.getDoc(docName.conv(general, 0))
    expect(readMessage(findMessage(doc, m.id)!).reactions).toHaveLength(2)
    await expect.poll(async () => (await ada.client.get(`/api/conversations/${general}/messages`)).body.messages.find((x: { id: string }) => x.id === m.id).reactions.length).toBe(2)

    const off = await react(bob, m.id, '👍')
    expect(off.body.message.reactions).toEqual([{ emoji: '👍', memberId: ada.member.id }])
  })

  it('works on thread replies', async () => {
    const root = (await ada.client.post(`/api/conversations/${general}/messages`, { bodyMd: 'root' })).body.message
    const reply = (await bob.client.post(`/api/conversations/${general}/messages`, { bodyMd: 'reply', parentId: root.id })).body.message
    const res = await react(ada, reply.id, '🎉')
    expect(res.status).toBe(200)
    expect(res.body.message).toMatchObject({ id: reply.id, parentId: root.id, reactions: [{ emoji: '🎉', memberId: ada.member.id }] })
  })

  it('refuses non-members (404, as for a missing id), bad emoji (400) and deleted messages (409)', async () => {
    const priv = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'hush', isPrivate: true })).body.conversation.id
    const secret = (await ada.client.post(`/api/conversations/${priv}/messages`, { bodyMd: 'hush' })).body.message
    const denied = await react(cy, secret.id, '👀')
    expect(denied.status).toBe(404)
    expect(denied.body.error).toBe('message_not_found')
    expect((await react(cy, 'msg_aaaaaaaaaaaaaaaa', '👀')).status).toBe(404)

    const m = (await bob.client.post(`/api/conversations/${general}/messages`, { bodyMd: 'x' })).body.message
    for (const emoji of ['', 'a b', 'x|y', 'x'.repeat(33), 42, null]) {
      const res = await react(bob, m.id, emoji)
      expect(res.status, String(emoji)).toBe(400)
      expect(res.body.error).toBe('invalid_input')
    }
    await bob.client.delete(`/api/messages/${m.id}`)
    expect((await react(ada, m.id, '👍')).status).toBe(409)
    expect((await new Client(server.url).post(`/api/messages/${m.id}/reactions`, { emoji: '👍' })).status).toBe(401)
  })
})
