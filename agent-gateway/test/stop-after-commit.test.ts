import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { expect, it, vi } from 'vitest'
import { openDb } from '@circlechat/db'
import { docName, meConversationsOf, readSegmentMeta } from '@circlechat/model'
import { SqliteStore } from '@circlechat/sync-server'
import { addPerson, signupAdmin, startTestServer } from '../src/test/harness.js'

// A stop that begins the moment a post fills its segment: the seal, the next segment and every
// member's me doc pointing at it are work that post's commit started. The stop lets it finish.

it('a stop the moment a segment fills still seals it and moves every member to the next', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'cc-stop-seal-'))
  try {
    const server = await startTestServer({ dataDir, segmentSize: 3 })
    const ada = await signupAdmin(server.url)
    const bob = await addPerson(server.url, ada.client, 'bob')
    const res = await ada.client.post('/api/conversations', { kind: 'channel', name: 'full', memberIds: [bob.member.id] })
    const conv = res.body.conversation.id as string
    for (let i = 0; i < 2; i++) expect((await ada.client.post(`/api/conversations/${conv}/messages`, { bodyMd: `m${i}` })).status).toBe(201)
    const stopped = new Promise<void>((resolve) => {
      server.gateway.sync.onMessageChange((change) => {
        if (change.kind === 'created' && change.conversationId === conv && change.message.body === 'm2') resolve(server.close())
      })
    })
    const errors = vi.spyOn(console, 'error')
    void ada.client.post(`/api/conversations/${conv}/messages`, { bodyMd: 'm2' }).catch(() => {})
    await stopped
    // Nothing of that work ran into the closed database.
    expect(errors.mock.calls.map((args) => args.map(String).join(' ')).filter((line) => /file closed|post-commit work failed|not open/.test(line))).toEqual([])
    errors.mockRestore()

    const db = openDb(join(dataDir, 'circlechat.db'))
    try {
      const load = async (name: string) => {
        const doc = new Y.Doc()
        for (const u of await new SqliteStore(db).loadDoc(name)) Y.applyUpdate(doc, u)
        return doc
      }
      expect(readSegmentMeta(await load(docName.conv(conv, 0)))?.sealed).toBe(true)
      for (const m of [ada.member.id, bob.member.id]) expect(meConversationsOf(await load(docName.me(m))).get(conv)?.liveSegment).toBe(1)
    } finally {
      db.$client.close()
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
