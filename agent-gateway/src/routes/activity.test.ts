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

  it('pages by time: the newest 50, then older pages from nextBefore, none twice, none skipped', async () => {
    const dev = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'dev', isPrivate: false })).body.conversation.id
    await bob.client.post(`/api/conversations/${dev}/join`)
    const ids = new Set<string>()
    for (let i = 0; i < 60; i++) ids.add((await post(ada, dev, `${i % 2 ? '@bob' : '@everyone'} item ${i}`)).id)
    const seen: string[] = []
    let before: number | null | undefined
    let pages = 0
    do {
      const res = await bob.client.get(`/api/activity${before ? `?before=${before}` : ''}`)
      expect(res.status).toBe(200)
      const items = res.body.items as Item[]
      if (pages === 0) expect(items.length).toBeGreaterThanOrEqual(50)
      expect(items.every((i) => !before || i.at < before)).toBe(true)
      seen.push(...items.filter((i) => i.kind === 'mention').map((i) => i.messageId!))
      before = res.body.nextBefore as number | null
      pages++
    } while (before && pages < 10)
    expect(pages).toBeGreaterThan(1)
    expect(new Set(seen).size).toBe(seen.length)
    for (const id of ids) expect(seen).toContain(id)
    expect((await bob.client.get('/api/activity?before=soon')).status).toBe(400)
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
