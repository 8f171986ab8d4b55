import { createScratchDatabase, openPgDb, pgSchema } from '@circlechat/db/pg'
import { pgSearchStore } from '../../src/services/search-store-pg.js'
import { searchContract } from './search-contract.js'

// A real PostgreSQL on 127.0.0.1:5432 (.ci/run starts it): a database of this run's own, dropped after.
searchContract('PostgreSQL', async () => {
  const scratch = await createScratchDatabase()
  const db = await openPgDb(scratch.url, { max: 2 })
  return {
    store: pgSearchStore(db),
    async seed(rows) {
      for (const table of ['workspaces', 'members', 'conversations', 'conversationMembers', 'messages', 'tasks'] as const) {
        for (const row of rows[table]) await db.insert(pgSchema[table]).values(row as never)
      }
    },
    async destroy() {
      await db.$client.end()
      await scratch.drop()
    }
  }
})
