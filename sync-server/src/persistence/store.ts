/**
 * The store contract: an append-only update log per doc plus compaction. `appendUpdate`
 * resolves only after the update is durable; implementations batch concurrent appends into one
 * commit (group commit) rather than weakening durability. Reads are async, so a store may live
 * across the network (PostgreSQL).
 *
 * `Write` is what must commit together with an update (index rows, client bindings): it gets
 * the batch's transaction. On SQLite it is synchronous (better-sqlite3 cannot await inside a
 * transaction); on PostgreSQL it awaits its queries on the transaction. A throw (or rejection)
 * fails that one append only: its update is not stored, the others of the batch are.
 */
export interface DocStore<Write extends (tx: never) => void | Promise<void>> {
  /** Durably appends `update` to `doc`'s log; `alsoWrite` runs in the same transaction. */
  appendUpdate(doc: string, update: Uint8Array, alsoWrite?: Write): Promise<void>
  /** Every stored update of `doc`, oldest first. */
  loadDoc(doc: string): Promise<Uint8Array[]>
  /** Replaces every stored update of `doc` with `snapshot` (must contain them all). */
  compact(doc: string, snapshot: Uint8Array): Promise<void>
  /** Names of stored docs starting with `prefix`. */
  listDocs(prefix: string): Promise<string[]>
  close(): Promise<void>
}
