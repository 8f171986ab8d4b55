import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, markRead, meUnreadOf } from '@circlechat/model'
import { startServer, type RunningServer } from '../server.js'
import { Client, addPerson, signupAdmin } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'
import { redisScratch, REDIS_URL } from '../../../sync-server/test/cluster-setup.js'

type Person = Awaited<ReturnType<typeof addPerson>>

/**
 * Two gateway processes (two servers in this process) on one SQLite file and one Redis, with
 * CLUSTER=redis: a member's figures are kept by whichever process owns their me doc, for posts
 * committed on either (services/unread-tracker.ts, docs/decisions.md).
 */
describe('unread counts across processes', () => {
  const redis = redisScratch()
  let dataDir: string
  let a: RunningServer, b: RunningServer
  let ada: Person['client'], general: string
  const start = () => startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, redisUrl: REDIS_URL, redisPrefix: redis.prefix, cluster: 'redis' })
  const on = (server: RunningServer, who: Person) => Object.assign(new Client(server.url), { cookie: who.client.cookie })
  const post = (client: Client, bodyMd: string) =>
    client.post(`/api/conversations/${general}/messages`, { bodyMd }).then((r) => { expect(r.status).toBe(201); return r.body.message as { id: string; createdAt: number } })
  const listed = async (client: Client) =>
    (await client.get('/api/conversations')).body.conversations.find((c: { id: string }) => c.id === general) as { unreadCount: number; unreadMentions: number }
  const settle = () => new Promise((r) => setTimeout(r, 500))

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cc-unread-cluster-'))
    a = await start()
    b = await start()
    ada = (await signupAdmin(a.url)).client
    general = (await ada.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
    await redis.cleanup()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('a member on B gets the figure and the mention of posts made through A, once', async () => {
    const bob = await addPerson(b.url, on(b, { client: ada } as Person), 'bob') // joining on B: B takes bob's me doc
    const tab = syncClient(b.url, bob.client.cookie!, docName.me(bob.member.id))
    try {
      await whenSynced(tab)
      let writes = 0
      meUnreadOf(tab.doc).observe(() => writes++)
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 0, mentions: 0 }) // healed on B's taking the doc

      const mention = await post(ada, 'over to you @bob')
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 1, mentions: 1 })
      const plain = await post(ada, 'nothing urgent here')
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 2, mentions: 1 })
      // Counted on B, the me doc's owner: A, where the posts committed, never loaded it.
      expect(a.gateway.sync.liveDocs().names).not.toContain(docName.me(bob.member.id))

      // A marker written on B is recounted once, by its owner alone.
      await settle()
      const before = writes
      markRead(tab.doc, general, plain.createdAt)
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 0, mentions: 0 })
      await settle()
      expect(writes - before).toBe(1)

      // REST, search and the mentions view agree whichever process answers.
      for (const server of [a, b]) {
        expect(await listed(on(server, bob))).toMatchObject({ unreadCount: 0, unreadMentions: 0 })
        const found = await on(server, bob).get('/api/search?q=urgent')
        expect(found.body.results.map((r: { messageId: string }) => r.messageId)).toEqual([plain.id])
        const items = (await on(server, bob).get('/api/activity')).body.items as Array<{ kind: string; messageId?: string }>
        expect(items.filter((i) => i.kind === 'mention').map((i) => i.messageId)).toEqual([mention.id])
      }
    } finally {
      tab.destroy()
    }
  })

  it('a me doc owned by A with its member writing markers through B', async () => {
    const cy = await addPerson(a.url, ada, 'cy') // joining on A: A takes cy's me doc
    const onA = syncClient(a.url, cy.client.cookie!, docName.me(cy.member.id))
    await whenSynced(onA)
    const onB = syncClient(b.url, cy.client.cookie!, docName.me(cy.member.id)) // B follows it
    try {
      await whenSynced(onB)
      expect(b.gateway.sync.liveDocs().names).toContain(docName.me(cy.member.id))
      // Everything in general before cy joined counts (the two posts above): read, never written.
      await expect.poll(() => meUnreadOf(onB.doc).get(general)).toEqual({ count: 2, mentions: 0 })
      // Posted through B: the post goes to the conversation's owner, the figure to the me doc's.
      const first = await post(on(b, { client: ada } as Person), 'hello @cy')
      await post(on(b, { client: ada } as Person), 'and again')
      for (const tab of [onA, onB]) await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 4, mentions: 1 })
      expect(await listed(on(b, cy))).toMatchObject({ unreadCount: 4, unreadMentions: 1 })

      markRead(onB.doc, general, first.createdAt)
      for (const tab of [onA, onB]) await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 1, mentions: 0 })
      expect(await listed(on(a, cy))).toMatchObject({ unreadCount: 1, unreadMentions: 0 })

      // Read over REST through the follower: the answer is counted there, the figure by A.
      expect((await on(b, cy).post(`/api/conversations/${general}/read`)).body.unread).toEqual({ count: 0, mentions: 0 })
      for (const tab of [onA, onB]) await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 0, mentions: 0 })
    } finally {
      onA.destroy()
      onB.destroy()
    }
  })
})
