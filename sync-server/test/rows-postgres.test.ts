import { createScratchDatabase, openPgDb, pgSchema } from '@circlechat/db/pg'
import { eq } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import { PgDocStore, type PgBatch } from '../src/persistence/postgres.js'
import { pgRows } from '../src/persistence/rows-postgres.js'
import { accessContract, guardContract, indexContract, type RowsBackend, type Table } from './rows-contract.js'

// A real PostgreSQL on 127.0.0.1:5432 (.ci/run starts it): a database of this suite's own, dropped after.
async function postgres(): Promise<RowsBackend<PgBatch, true>> {
  const scratch = await createScratchDatabase()
  const db = await openPgDb(scratch.url, { max: 4 })
  const table = (name: Table) => pgSchema[name] as PgTable
  return {
    rows: pgRows(db),
    store: new PgDocStore(db),
    async insert(name, rows) {
      await db.insert(table(name)).values(rows as never)
    },
    async remove(name, column, value) {
      await db.delete(table(name)).where(eq((pgSchema[name] as unknown as Record<string, PgColumn>)[column]!, value))
    },
    async select(name) {
      return db.select().from(table(name))
    },
    async destroy() {
      await db.$client.end()
      await scratch.drop()
    }
  }
}

indexContract('PostgreSQL', postgres)
accessContract('PostgreSQL', postgres)
guardContract('PostgreSQL', postgres)
