import { openDb, schema, type Db } from '@circlechat/db'
import { eq } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteRows } from '../src/persistence/rows-sqlite.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import { accessContract, guardContract, indexContract, type RowsBackend, type Table } from './rows-contract.js'

// A real SQLite file (WAL, synchronous=FULL), its writes inside the group commit as the relay's are.
async function sqlite(): Promise<RowsBackend<Db, false>> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-rows-'))
  const db = openDb(join(dir, 'rows.db'))
  const table = (name: Table) => schema[name] as SQLiteTable
  return {
    rows: sqliteRows(db),
    store: new SqliteStore(db),
    async insert(name, rows) {
      db.insert(table(name)).values(rows as never).run()
    },
    async remove(name, column, value) {
      db.delete(table(name)).where(eq((schema[name] as unknown as Record<string, SQLiteColumn>)[column]!, value)).run()
    },
    async select(name) {
      return db.select().from(table(name)).all()
    },
    async destroy() {
      db.$client.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

indexContract('SQLite', sqlite)
accessContract('SQLite', sqlite)
guardContract('SQLite', sqlite)
