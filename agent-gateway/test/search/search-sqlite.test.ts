import { openDb, schema } from '@circlechat/db'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteSearchStore } from '../../src/services/search-store.js'
import { searchContract } from './search-contract.js'

// A real SQLite file with every migration (FTS5 tables and their triggers).
searchContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-search-'))
  const db = openDb(join(dir, 'search.db'))
  return {
    store: sqliteSearchStore(db),
    async seed(rows) {
      db.transaction((tx) => {
        for (const table of ['workspaces', 'members', 'conversations', 'conversationMembers', 'messages', 'tasks'] as const) {
          for (const row of rows[table]) tx.insert(schema[table]).values(row as never).run()
        }
      })
    },
    async destroy() {
      db.$client.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
