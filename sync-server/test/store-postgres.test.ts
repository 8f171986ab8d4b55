import { createScratchDatabase, openPgDb, pgSchema } from '@circlechat/db/pg'
import { count, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { PgDocStore, type PgWrite } from '../src/persistence/postgres.js'
import { refused, storeContract } from './store-contract.js'

// A real PostgreSQL on 127.0.0.1:5432 (.ci/run starts it): a database of this run's own, dropped after.
storeContract<PgWrite>('PostgreSQL', async () => {
  const scratch = await createScratchDatabase()
  const outside = await openPgDb(scratch.url, { max: 2 })
  const { docClients, docUpdates } = pgSchema
  return {
    async open() {
      const db = await openPgDb(scratch.url)
      const store = new PgDocStore(db)
      return { store, close: async () => { await store.close(); await db.$client.end() } }
    },
    bind: (doc, client, fail) => async (tx) => {
      await tx.insert(docClients).values({ doc, clientId: client, memberId: 'm_test' })
      if (fail) refused()
    },
    async bound(doc) {
      return (await outside.select({ c: docClients.clientId }).from(docClients).where(eq(docClients.doc, doc))).map((r) => r.c)
    },
    probe: (doc, seen) => async (tx) => {
      const [[inside], [other]] = await Promise.all([
        tx.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc)),
        outside.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc))
      ])
      seen(inside!.n, other!.n)
    },
    async destroy() {
      await outside.$client.end()
      await scratch.drop()
    }
  }
})

describe('PgDocStore', () => {
  it('an update row PostgreSQL refuses (a NUL in the name) rejects only its own append', async () => {
    const scratch = await createScratchDatabase()
    const db = await openPgDb(scratch.url, { max: 2 })
    try {
      const store = new PgDocStore(db)
      // One INSERT carries the batch's rows, so this failure names no entry: each is retried alone.
      const results = await Promise.allSettled([
        store.appendUpdate('conv:c_ok:0', new Uint8Array([1])),
        store.appendUpdate('conv:c_\u0000:0', new Uint8Array([2])),
        store.appendUpdate('conv:c_ok:0', new Uint8Array([3]))
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect((await store.loadDoc('conv:c_ok:0')).map((u) => [...u])).toEqual([[1], [3]])
    } finally {
      await db.$client.end()
      await scratch.drop()
    }
  })
})
