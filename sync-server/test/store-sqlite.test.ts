import { openDb, schema } from '@circlechat/db'
import { count, eq } from 'drizzle-orm'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore, type SqliteWrite } from '../src/persistence/sqlite.js'
import { refused, storeContract } from './store-contract.js'

// A real SQLite file (WAL, synchronous=FULL), reopened from disk between stores.
storeContract<SqliteWrite>('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-store-'))
  const file = join(dir, 'store.db')
  const outside = openDb(file)
  const { docClients, docUpdates } = schema
  const rows = (db: typeof outside, doc: string) => db.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc)).get()!.n
  return {
    async open() {
      const db = openDb(file)
      const store = new SqliteStore(db)
      return { store, close: async () => { await store.close(); db.$client.close() } }
    },
    bind: (doc, client, fail) => (tx) => {
      tx.insert(docClients).values({ doc, clientId: client, memberId: 'm_test' }).run()
      if (fail) refused()
    },
    async bound(doc) {
      return outside.select({ c: docClients.clientId }).from(docClients).where(eq(docClients.doc, doc)).all().map((r) => r.c)
    },
    probe: (doc, seen) => (tx) => seen(rows(tx, doc), rows(outside, doc)),
    async destroy() {
      outside.$client.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
