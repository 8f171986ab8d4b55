import { createScratchDatabase, openPgDb, pgSchema } from '@circlechat/db/pg'
import { count, eq } from 'drizzle-orm'
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
