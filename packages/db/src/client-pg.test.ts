import { eq } from 'drizzle-orm'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createScratchDatabase, openPgDb, pgSchema, type PgDb } from './pg.js'

// A real PostgreSQL on 127.0.0.1:5432 (.ci/run starts it), one scratch database per run.
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>
let db: PgDb

beforeAll(async () => {
  scratch = await createScratchDatabase()
  // Processes starting together on one database: the migration lock lets each open succeed.
  const [a, b] = await Promise.all([openPgDb(scratch.url, { max: 2 }), openPgDb(scratch.url, { max: 2 })])
  await b.$client.end()
  db = a
})

afterAll(async () => {
  await db?.$client.end()
  await scratch?.drop()
})

describe('openPgDb', () => {
  it('creates every table of the schema, and reopening migrates nothing twice', async () => {
    const tables = await db.$client.query<{ n: string }>("SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public'")
    const names = tables.rows.map((r) => r.n)
    expect(names).toContain('doc_updates')
    expect(names).toContain('message_mentions')
    expect(names.length).toBe(Object.keys(pgSchema).length)
    const again = await openPgDb(scratch.url, { max: 1 })
    await again.$client.end()
    const applied = await db.$client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')
    const journal = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'drizzle-pg', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }
    expect(applied.rows[0].n).toBe(journal.entries.length)
  })

  it('keeps message_mentions in step with messages, as the SQLite triggers do', async () => {
    const { messages, messageMentions } = pgSchema
    const row = {
      id: 'm_1', conversationId: 'c_1', doc: 'conv:c_1:0', author: 'u_1', createdAt: 1_800_000_000_000, body: 'hi @ann',
      mentions: ['u_ann', 'everyone'], attachments: [], reactions: []
    }
    await db.insert(messages).values(row)
    const targets = async () => (await db.select().from(messageMentions).where(eq(messageMentions.messageId, 'm_1'))).map((r) => r.target).sort()
    expect(await targets()).toEqual(['everyone', 'u_ann'])
    await db.update(messages).set({ mentions: ['u_bob'] }).where(eq(messages.id, 'm_1'))
    expect(await targets()).toEqual(['u_bob'])
    await db.update(messages).set({ deleted: true }).where(eq(messages.id, 'm_1'))
    expect(await targets()).toEqual([])
    await db.update(messages).set({ deleted: false }).where(eq(messages.id, 'm_1'))
    expect(await targets()).toEqual(['u_bob'])
    await db.delete(messages).where(eq(messages.id, 'm_1'))
    expect(await targets()).toEqual([])
  })
})
