import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, meThreadsOf } from '@circlechat/model'
import { Client, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import type { FollowedThreadJson } from '../services/thread-follows.js'

type Person = { client: Client; member: { id: string; handle?: string } }

describe('following threads: /api/threads', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Person, bob: Person, cy: Person
  let general: string

  const post = (who: Person, bodyMd: string, parentId?: string) =>
    who.client.post(`/api/conversations/${general}/messages`, { bodyMd, parentId }).then((r) => r.body.message as { id: string; createdAt: number })
  const entry = (res: { body: { threads: FollowedThreadJson[] } }, id: string) => res.body.threads.find((t) => t.id === id)
  const followed = async (who: Person) => (await who.client.get('/api/threads')).body.threads.map((t: { id: string }) => t.id) as string[]
  const meThread = async (who: Person, rootId: string) => meThreadsOf(await server.gateway.sync.getDoc(docName.me(who.member.id))).get(rootId)

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    cy = await addPerson(server.url, ada.client, 'cy')
    general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
  })
  afterAll(async () => {
    await server.close()
  })

  it('follows the starter, the replier and the people a reply names; each reply reaches every follower', async () => {
    const root = await post(ada, 'plan for friday?')
    const reply = await post(bob, 'drinks, ask @cy', root.id)
    await expect.poll(() => followed(ada)).toContain(root.id)
    expect(await followed(bob)).toContain(root.id)
    expect(await followed(cy)).toContain(root.id)
    for (const who of [ada, bob, cy]) {
      await expect.poll(() => meThread(who, root.id)).toEqual({ conversationId: general, lastReplyAt: reply.createdAt, lastReplyBy: bob.member.id })
    }
    // A top-level message is no thread until someone replies.
    const lone = await post(ada, 'nobody answers this')
    expect(await followed(ada)).not.toContain(lone.id)
  })

  it('unfollowing sticks through replies by others; replying follows again', async () => {
    const root = await post(ada, 'lunch?')
    await post(bob, 'yes', root.id)
    await expect.poll(() => meThread(ada, root.id)).toBeDefined()
    expect((await ada.client.delete(`/api/threads/${root.id}/follow`)).body).toEqual({ following: false })
    expect(await meThread(ada, root.id)).toBeUndefined()
    const later = await post(bob, 'at noon', root.id)
    await expect.poll(() => meThread(bob, root.id).then((t) => t?.lastReplyAt)).toBe(later.createdAt)
    expect(await meThread(ada, root.id)).toBeUndefined()
    expect(await followed(ada)).not.toContain(root.id)

    const mine = await post(ada, 'see you', root.id)
    await expect.poll(() => meThread(ada, root.id)).toEqual({ conversationId: general, lastReplyAt: mine.createdAt, lastReplyBy: ada.member.id })
  })

  it('follows a thread by hand, with its newest reply; refuses replies, strangers and bad ids', async () => {
    const root = await post(ada, 'release notes')
    const reply = await post(ada, 'draft one', root.id)
    expect((await cy.client.post(`/api/threads/${root.id}/follow`)).body).toEqual({ following: true })
    expect(await followed(cy)).toContain(root.id)
    expect(await meThread(cy, root.id)).toEqual({ conversationId: general, lastReplyAt: reply.createdAt, lastReplyBy: ada.member.id })

    const notThread = await cy.client.post(`/api/threads/${reply.id}/follow`)
    expect(notThread.status).toBe(400)
    expect(notThread.body.error).toBe('not_a_thread')
    const priv = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'hush', isPrivate: true })).body.conversation.id
    const secret = (await ada.client.post(`/api/conversations/${priv}/messages`, { bodyMd: 'hush' })).body.message
    const stranger = await cy.client.post(`/api/threads/${secret.id}/follow`)
    expect(stranger.status).toBe(404)
    expect(stranger.body.error).toBe('message_not_found')
    expect((await cy.client.post('/api/threads/nope/follow')).status).toBe(404)
    expect((await new Client(server.url).get('/api/threads')).status).toBe(401)
  })

  it('lists only threads of conversations I am in now, the newest reply first', async () => {
    const ops = (await bob.client.post('/api/conversations', { kind: 'channel', name: 'ops', isPrivate: false })).body.conversation.id
    await cy.client.post(`/api/conversations/${ops}/join`)
    const root = (await bob.client.post(`/api/conversations/${ops}/messages`, { bodyMd: 'deploy?' })).body.message
    await cy.client.post(`/api/conversations/${ops}/messages`, { bodyMd: 'go', parentId: root.id })
    await expect.poll(() => followed(cy)).toContain(root.id)
    const list = (await cy.client.get('/api/threads')).body.threads as Array<{ lastReplyAt: number }>
    expect(list.map((t) => t.lastReplyAt)).toEqual([...list.map((t) => t.lastReplyAt)].sort((a, b) => b - a))
    // Each root comes with its count and newest reply that is not deleted (the list's preview).
    const gone = (await bob.client.post(`/api/conversations/${ops}/messages`, { bodyMd: 'oops', parentId: root.id })).body.message
    await expect.poll(async () => entry(await cy.client.get('/api/threads'), root.id)?.lastReply?.bodyMd).toBe('oops')
    expect((await bob.client.delete(`/api/messages/${gone.id}`)).status).toBe(200)
    await expect.poll(async () => entry(await cy.client.get('/api/threads'), root.id)?.lastReply?.bodyMd).toBe('go')
    const shown = entry(await cy.client.get('/api/threads'), root.id)!
    // The count is the thread's, as under the message: a deleted reply stays in it, marked.
    expect(shown.threadCount).toBe(2)
    expect(shown.lastReply).toMatchObject({ memberId: cy.member.id, parentId: root.id })

    await cy.client.post(`/api/conversations/${ops}/leave`)
    expect(await followed(cy)).not.toContain(root.id)
    // Nor does a reply there reach me once I left.
    const after = (await bob.client.post(`/api/conversations/${ops}/messages`, { bodyMd: 'done', parentId: root.id })).body.message
    await expect.poll(() => meThread(bob, root.id).then((t) => t?.lastReplyAt)).toBe(after.createdAt)
    expect((await meThread(cy, root.id))?.lastReplyAt).not.toBe(after.createdAt)
  })
})
