import { createScratchDatabase, openPgDb, pgSchema } from '@circlechat/db/pg'
import { count, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { checkFencePg } from '../src/cluster/fence-pg.js'
import { FencedOut } from '../src/cluster/fence.js'
import { PgDocStore, type PgRowKind, type PgWrite } from '../src/persistence/postgres.js'
import { refusal, storeContract } from './store-contract.js'

// A real PostgreSQL on 127.0.0.1:5432 (.ci/run starts it): a database of this run's own, dropped after.
storeContract<PgWrite>('PostgreSQL', async () => {
  const scratch = await createScratchDatabase()
  const outside = await openPgDb(scratch.url, { max: 2 })
  const { docClients, docUpdates } = pgSchema
  // The batch's rows in one INSERT, as the relay's kinds write them; a failing item is refused.
  const bindings: PgRowKind<{ doc: string; client: number; fail?: boolean }> = {
    async write(tx, items) {
      await tx.insert(docClients).values(items.map(({ doc, client }) => ({ doc, clientId: client, memberId: 'm_test' })))
      return items.flatMap((it, item) => (it.fail ? [{ item, error: refusal() }] : []))
    }
  }
  const probes: PgRowKind<{ doc: string; seen: (inside: number, outside: number) => void }> = {
    async write(tx, items) {
      for (const { doc, seen } of items) {
        const [[inside], [other]] = await Promise.all([
          tx.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc)),
          outside.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc))
        ])
        seen(inside!.n, other!.n)
      }
      return []
    }
  }
  return {
    async open() {
      const db = await openPgDb(scratch.url)
      const store = new PgDocStore(db)
      return { store, close: async () => { await store.close(); await db.$client.end() } }
    },
    bind: (doc, client, fail) => (batch) => batch.add(bindings, { doc, client, fail }),
    async bound(doc) {
      return (await outside.select({ c: docClients.clientId }).from(docClients).where(eq(docClients.doc, doc))).map((r) => r.c)
    },
    probe: (doc, seen) => (batch) => batch.add(probes, { doc, seen }),
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

  it('a batch checks its fences in one statement: only the appends of a doc with a newer owner are refused', async () => {
    const scratch = await createScratchDatabase()
    const db = await openPgDb(scratch.url, { max: 2 })
    try {
      const store = new PgDocStore(db)
      const [mine, taken] = ['conv:c_mine:0', 'conv:c_taken:0']
      await checkFencePg(db, mine, 1)
      await checkFencePg(db, taken, 2)
      const results = await Promise.allSettled([
        store.appendUpdate(mine, new Uint8Array([1]), (batch) => checkFencePg(batch, mine, 1)),
        store.appendUpdate(taken, new Uint8Array([2]), (batch) => checkFencePg(batch, taken, 1)),
        store.appendUpdate(mine, new Uint8Array([3]), (batch) => checkFencePg(batch, mine, 1)),
        store.appendUpdate(taken, new Uint8Array([4]), (batch) => checkFencePg(batch, taken, 2))
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(FencedOut)
      expect((await store.loadDoc(mine)).map((u) => [...u])).toEqual([[1], [3]])
      expect((await store.loadDoc(taken)).map((u) => [...u])).toEqual([[4]])
    } finally {
      await db.$client.end()
      await scratch.drop()
    }
  })
})
