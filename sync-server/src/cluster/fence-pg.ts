import { pgSchema, type PgDb } from '@circlechat/db/pg'
import type { PgBatch, PgRowKind } from '../persistence/postgres.js'
import { FencedOut, fenceUpsert } from './fence.js'

/** The batch's fence checks in one upsert; a doc left alone has a newer owner: its appends are refused. */
const fences: PgRowKind<{ doc: string; fence: number }> = {
  async write(tx, items) {
    const { docOwners } = pgSchema
    const byDoc = new Map<string, number>()
    for (const { doc, fence } of items) {
      // The lease moved within the batch: written one append per transaction, each checked alone.
      if ((byDoc.get(doc) ?? fence) !== fence) throw new Error(`${doc} is written under two fences in one batch`)
      byDoc.set(doc, fence)
    }
    const rows = await tx.insert(docOwners).values([...byDoc].map(([doc, fence]) => ({ doc, fence }))).onConflictDoUpdate(fenceUpsert(docOwners)).returning({ doc: docOwners.doc })
    const kept = new Set(rows.map((r) => r.doc))
    return items.flatMap(({ doc, fence }, item) => (kept.has(doc) ? [] : [{ item, error: new FencedOut(doc, fence) }]))
  }
}

/** Checks `fence` inside a PostgreSQL append (`PgDocStore`'s `alsoWrite`); rejects with FencedOut.
 *  On the pool, outside an append, it is a new owner's claim before loading (see fence.ts). */
export async function checkFencePg(tx: PgBatch | PgDb, doc: string, fence: number): Promise<void> {
  if (!('$client' in tx)) return tx.add(fences, { doc, fence })
  const [refused] = await tx.transaction((t) => fences.write(t, [{ doc, fence }]))
  if (refused) throw refused.error
}
