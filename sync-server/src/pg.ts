// The PostgreSQL store, a subpath of its own: a one-box install never loads the driver.
import type { PgDb } from '@circlechat/db/pg'
import { checkFencePg } from './cluster/fence-pg.js'
import { PgDocStore, type PgBatch } from './persistence/postgres.js'
import { pgRows } from './persistence/rows-postgres.js'
import type { RelayStorage } from './persistence/storage.js'

export { PgDocStore, pgRows }
export type { PgBatch, PgRowKind, PgWrite } from './persistence/postgres.js'

/** The relay on PostgreSQL (`SyncServerOptions.storage`): the pool is the caller's to end. */
export function pgStorage(db: PgDb): RelayStorage<PgBatch, true> {
  return {
    store: new PgDocStore(db),
    rows: pgRows(db),
    checkFence: checkFencePg,
    claimFence: (doc, fence) => checkFencePg(db, doc, fence)
  }
}
