import { openDb, schema } from '@circlechat/db'
import { count, eq } from 'drizzle-orm'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore, type SqliteWrite } from '../src/persistence/sqlite.js'
import { describe, expect, it } from 'vitest'
import { refused, storeContract } from './store-contract.js'

// A real SQLite file (WAL, synchronous=FULL), reopened from disk between stores; once with the
// WAL synced off the event loop (the default), once by COMMIT itself.
for (const syncOffLoop of [true, false]) storeContract<SqliteWrite>(`SQLite, ${syncOffLoop ? 'WAL synced on the thread pool' : 'COMMIT syncs'}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-store-'))
  const file = join(dir, 'store.db')
  const outside = openDb(file)
  const { docClients, docUpdates } = schema
  const rows = (db: typeof outside, doc: string) => db.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc)).get()!.n
  return {
    async open() {
      const db = openDb(file)
      const store = new SqliteStore(db, { syncOffLoop })
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

describe('SQLite store, WAL synced off the event loop', () => {
  it('acknowledges batches in the order they committed, and leaves every other write synchronous=FULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-store-'))
    const db = openDb(join(dir, 'store.db'))
    const store = new SqliteStore(db)
    try {
      const acked: number[] = []
      const appends: Promise<void>[] = []
      // Twenty batches, one per event-loop turn, each syncing on its own on the thread pool.
      for (let batch = 0; batch < 20; batch++) {
        for (let i = 0; i < 5; i++) {
          const n = batch * 5 + i
          appends.push(store.appendUpdate('conv:c_order:0', new Uint8Array([n]), () => {}).then(() => void acked.push(n)))
        }
        await new Promise((resolve) => setImmediate(resolve))
        expect(db.$client.pragma('synchronous', { simple: true })).toBe(2) // FULL between batches
      }
      await Promise.all(appends)
      expect(acked).toEqual(Array.from({ length: 100 }, (_, n) => n))
      expect((await store.loadDoc('conv:c_order:0')).map((u) => u[0])).toEqual(acked)
    } finally {
      await store.close()
      db.$client.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
