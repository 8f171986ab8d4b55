import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import { FencedOut, fenceUpsert } from './fence.js'

/** Checks `fence` inside a PostgreSQL append (`PgDocStore`'s `alsoWrite`); rejects with FencedOut.
 *  On the pool, outside an append, it is a new owner's claim before loading (see fence.ts). */
export async function checkFencePg(tx: PgTx | PgDb, doc: string, fence: number): Promise<void> {
  const { docOwners } = pgSchema
  const rows = await tx.insert(docOwners).values({ doc, fence }).onConflictDoUpdate(fenceUpsert(docOwners)).returning({ fence: docOwners.fence })
  if (rows.length !== 1) throw new FencedOut(doc, fence)
}
