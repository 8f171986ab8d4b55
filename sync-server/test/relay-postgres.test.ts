import { pgSchema, type PgDb } from '@circlechat/db/pg'
import { appendMessage, boardMetaOf, createTask, docName, listMessages } from '@circlechat/model'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SyncServer } from '../src/index.js'
import { connectProvider, forgeUpdate, rawClient, synced, until, watchRelay } from './harness.js'
import { startPgHarness, type PgHarness } from './harness-pg.js'

// The relay on a scratch PostgreSQL database (127.0.0.1:5432; .ci/run starts it): its store,
// its index and access rows, and the guard's lookups all on PostgreSQL, clients over y-websocket.
describe('the relay on PostgreSQL', () => {
  let h: PgHarness
  let db: PgDb
  let sync: SyncServer
  let url: string
  let workspaceId: string
  const { conversationMembers, docUpdates, messages, taskAssignees, tasks } = pgSchema
  const member = () => h.seedMember()
  const conversation = (memberIds: string[]) => h.seedConversation(memberIds)
  const indexed = async (doc: string) => db.select().from(messages).where(eq(messages.doc, doc))
  /** Polls the database until `check` holds. */
  async function stored(check: () => Promise<boolean>, what: string) {
    for (const start = Date.now(); !(await check());) {
      if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  beforeAll(async () => {
    h = await startPgHarness()
    ;({ db, sync, url, workspaceId } = h)
  })
  afterAll(async () => {
    await h?.close()
  })

  it('a message posted over y-websocket is stored and indexed in PostgreSQL before it is relayed', async () => {
    const [alice, bob] = [await member(), await member()]
    const name = docName.conv(await conversation([alice.id, bob.id]), 0)
    const a = connectProvider(url, name, alice.token)
    const b = connectProvider(url, name, bob.token)
    const seen = watchRelay(a)
    try {
      await Promise.all([synced(a), synced(b)])
      const id = appendMessage(a.doc, { author: alice.id, body: 'hello from postgres' })
      await until(() => listMessages(b.doc).some((m) => m.id === id), 5000, 'relayed to bob')
      // Relaying follows the commit: the row is there by the time bob has the message.
      expect(await indexed(name)).toEqual([expect.objectContaining({ id, author: alice.id, body: 'hello from postgres', deleted: false })])
      expect((await db.select().from(docUpdates).where(eq(docUpdates.doc, name))).length).toBeGreaterThan(0)
      expect(seen.rejects).toEqual([])
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  it('OWN1 and OWN2 on PostgreSQL: a message as someone else, or under a taken id, is refused and not stored', async () => {
    const [alice, bob] = [await member(), await member()]
    const name = docName.conv(await conversation([alice.id, bob.id]), 0)
    const first = connectProvider(url, name, alice.token)
    await synced(first)
    const taken = appendMessage(first.doc, { author: alice.id, body: 'first' })
    await stored(async () => (await indexed(name)).length === 1, 'the first message')
    first.destroy()
    const socket = await rawClient(url, name, bob.token)
    try {
      socket.sendUpdate(await forgeUpdate({ sync }, name, (d) => appendMessage(d, { author: alice.id, body: 'as alice' })))
      socket.sendUpdate(await forgeUpdate({ sync }, name, (d) => appendMessage(d, { id: taken, author: bob.id, body: 'same id' })))
      await until(() => socket.rejects.length === 2, 5000, 'two refusals')
      expect(socket.rejects.map((r) => r.reason)).toEqual(['notAuthor', 'immutableField'])
      expect((await indexed(name)).map((m) => m.body)).toEqual(['first'])
    } finally {
      socket.close()
    }
  })

  it('a task created on a board over y-websocket is indexed in PostgreSQL, with its assignees', async () => {
    const alice = await member()
    const conv = await conversation([alice.id])
    const name = docName.board(conv)
    const p = connectProvider(url, name, alice.token)
    const seen = watchRelay(p)
    try {
      await synced(p)
      // The board's meta is the server's (initBoard on load): the client waits for it.
      await until(() => boardMetaOf(p.doc).get('workspaceId') === workspaceId, 5000, 'the board meta')
      const id = createTask(p.doc, { createdBy: alice.id, title: 'port the relay', assignees: [alice.id] })
      await stored(async () => (await db.select().from(tasks).where(eq(tasks.id, id))).length === 1, 'the task row')
      expect(await db.select().from(tasks).where(eq(tasks.id, id))).toEqual([expect.objectContaining({ board: conv, workspaceId, conversationId: conv, title: 'port the relay', archivedAt: null })])
      expect(await db.select({ m: taskAssignees.memberId }).from(taskAssignees).where(eq(taskAssignees.taskId, id))).toEqual([{ m: alice.id }])
      expect(seen.rejects).toEqual([])
    } finally {
      p.destroy()
    }
  })

  it('a member removed from the conversation is refused on their next write, read from PostgreSQL then', async () => {
    const [alice, bob] = [await member(), await member()]
    const conv = await conversation([alice.id, bob.id])
    const name = docName.conv(conv, 0)
    const b = connectProvider(url, name, bob.token)
    const seen = watchRelay(b)
    try {
      await synced(b)
      await db.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, conv), eq(conversationMembers.memberId, bob.id)))
      appendMessage(b.doc, { author: bob.id, body: 'after removal' })
      await until(() => seen.rejects.length > 0, 5000, 'the refusal')
      expect(seen.rejects.map((r) => r.reason)).toEqual(['notMember'])
      expect(await indexed(name)).toEqual([])
    } finally {
      b.destroy()
    }
  })
})
