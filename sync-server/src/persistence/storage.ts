import type { Db } from '@circlechat/db'
import { checkFenceSqlite } from '../cluster/fence.js'
import type { AccessRows, ConversationRows, Got, IndexRows } from './rows.js'
import { sqliteRows } from './rows-sqlite.js'
import { SqliteStore } from './sqlite.js'
import type { DocStore } from './store.js'

/** Everything the relay reads and writes, on one dialect: the doc store, its own rows, the fence. */
export interface RelayStorage<Tx, A extends boolean> {
  store: DocStore<(tx: Tx) => Got<void, A>>
  rows: IndexRows<Tx, A> & AccessRows<A> & ConversationRows<A>
  /** The owner's fence check inside an append's transaction (cluster/fence.ts). */
  checkFence(tx: Tx, doc: string, fence: number): Got<void, A>
  /** A new owner's claim of its fence, before it loads the doc. */
  claimFence(doc: string, fence: number): Got<void, A>
}

/** The one-box default: a SQLite file (its group commit, its statements prepared once). */
export function sqliteStorage(db: Db): RelayStorage<Db, false> {
  return {
    store: new SqliteStore(db),
    rows: sqliteRows(db),
    checkFence: checkFenceSqlite,
    claimFence: (doc, fence) => checkFenceSqlite(db, doc, fence)
  }
}
