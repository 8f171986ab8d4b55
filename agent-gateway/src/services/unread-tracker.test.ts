import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { docName, markRead, meUnreadOf } from '@circlechat/model'
import { startServer, type RunningServer } from '../server.js'
import { Client, addPerson, signupAdmin } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

/**
 * The tracker sees read markers of a me doc that only a member's connection loaded: after a
 * restart nothing on the server has touched bob's me doc, so the observer can only have come
 * from the upgrade path (services/unread-tracker.ts, docs/decisions.md).
 */
describe('unread tracker after a restart', () => {
  let dataDir: string
  let server: RunningServer | null = null
  afterAll(async () => {
    await server?.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  const start = () => startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null })

  it('observes a me doc first loaded by its member\'s connection', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cc-unread-'))
    server = await start()
    const ada = await signupAdmin(server.url)
    const bob = await addPerson(server.url, ada.client, 'bob')
    const general = (await ada.client.get('/api/conversations')).body.conversations.find((c: { name: string }) => c.name === 'general').id
    const posted: Array<{ createdAt: number }> = []
    for (const body of ['one', 'two @bob', 'three']) posted.push((await ada.client.post(`/api/conversations/${general}/messages`, { bodyMd: body })).body.message)
    await server.close()

    server = await start()
    const bobSession = new Client(server.url)
    bobSession.cookie = bob.client.cookie
    const tab = syncClient(server.url, bobSession.cookie!, docName.me(bob.member.id))
    try {
      await whenSynced(tab)
      // Attaching recomputes once (heals whatever was missed while the doc was not observed).
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 3, mentions: 1 })
      markRead(tab.doc, general, posted[1]!.createdAt)
      await expect.poll(() => meUnreadOf(tab.doc).get(general)).toEqual({ count: 1, mentions: 0 })
    } finally {
      tab.destroy()
    }
  })
})
