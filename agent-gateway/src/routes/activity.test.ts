import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, addPerson, signupAdmin, startTestServer } from '../test/harness.js'

type Person = { client: Client; member: { id: string } }
type Item = { kind: string; messageId?: string; emoji?: string; by: string; at: number }

describe('GET /api/activity', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Person, bob: Person
  let general: string

  const post = (who: Person, conv: string, bodyMd: string) =>
    who.client.post(`/api/conversations/${conv}/messages`, { bodyMd }).then((r) => r.body.message as { id: string })
  const activity = async (who: Person) => (await who.client.get('/api/activity')).body.items as Item[]

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
  })
  afterAll(async () => {
    await server.close()
  })

  it('lists mentions of me, direct or by @channel, and reactions to my messages, newest first', async () => {
    const direct = await post(ada, general, 'over to you @bob')
    const broadcast = await post(ada, general, 'heads up @channel')
    await post(ada, general, 'nobody in particular')
    const mine = await post(bob, general, 'shipped it')
    await ada.client.post(`/api/messages/${mine.id}/reactions`, { emoji: '🎉' })
    await bob.client.post(`/api/messages/${mine.id}/reactions`, { emoji: '👍' }) // my own: not news
    await expect.poll(async () => (await activity(bob)).map((i) => [i.kind, i.messageId, i.emoji ?? null])).toEqual([
      ['reaction', mine.id, '🎉'],
      ['mention', broadcast.id, null],
      ['mention', direct.id, null]
    ])
    const items = await activity(bob)
    expect(items.map((i) => i.at)).toEqual([...items.map((i) => i.at)].sort((a, b) => b - a))
    expect(items[0]!.by).toBe(ada.member.id)
    // Ada wrote the mentions; none is news to her.
    expect(await activity(ada)).toEqual([])

    // A reaction taken back leaves the list.
    await ada.client.post(`/api/messages/${mine.id}/reactions`, { emoji: '🎉' })
    expect((await activity(bob)).some((i) => i.kind === 'reaction')).toBe(false)
  })

  it('leaves out conversations I have left, and needs a session', async () => {
    const ops = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'ops', isPrivate: false })).body.conversation.id
    await bob.client.post(`/api/conversations/${ops}/join`)
    const m = await post(ada, ops, '@bob can you deploy?')
    const task = (await ada.client.post('/api/tasks', { conversationId: ops, title: 'Deploy' })).body.task
    const comment = (await ada.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: '@bob yours' })).body.comment
    await expect.poll(async () => (await activity(bob)).filter((i) => i.messageId === m.id || (i as { commentId?: string }).commentId === comment.id).map((i) => i.kind))
      .toEqual(['task_mention', 'mention'])
    await bob.client.post(`/api/conversations/${ops}/leave`)
    expect((await activity(bob)).some((i) => i.messageId === m.id || (i as { commentId?: string }).commentId === comment.id)).toBe(false)
    expect((await new Client(server.url).get('/api/activity')).status).toBe(401)
  })
})
