import { schema, type Db } from '@circlechat/db'
import { sql } from 'drizzle-orm'

/** The doc has a newer owner: this write would land after one of theirs, so it is refused. */
export class FencedOut extends Error {
  constructor(readonly doc: string, readonly fence: number) {
    super(`${doc}: fence ${fence} is stale; another process owns this document now`)
  }
}

// Compare-and-set in the append's own transaction: raise the doc's fence to ours unless a
// higher one is stored. The row stays locked until COMMIT (PostgreSQL) or the whole database is
// (SQLite), so no newer owner can commit between this check and our append.
export const fenceUpsert = <T extends { doc: unknown; fence: unknown }>(table: T) => ({
  target: table.doc as never,
  set: { fence: sql`excluded.fence` },
  setWhere: sql`excluded.fence >= ${table.fence}`
})

/**
 * Checks `fence` inside a SQLite append (`SqliteStore`'s `alsoWrite`); throws FencedOut. Called
 * on its own (the connection, not a transaction) it is the claim a new owner makes before it
 * loads the doc: from then on no write of its predecessor can land unseen by that load.
 */
export function checkFenceSqlite(tx: Db, doc: string, fence: number): void {
  const { docOwners } = schema
  const { changes } = tx.insert(docOwners).values({ doc, fence }).onConflictDoUpdate(fenceUpsert(docOwners)).run()
  if (changes !== 1) throw new FencedOut(doc, fence)
}
