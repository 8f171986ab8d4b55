/**
 * The store contract: an append-only update log per doc plus compaction. `appendUpdate`
 * resolves only after the update is durable; implementations batch concurrent appends into one
 * commit (group commit) rather than weakening durability.
 */
export interface DocStore {
  /** Durably appends `update` to `doc`'s log; `alsoWrite` runs in the same transaction. */
  appendUpdate(doc: string, update: Uint8Array, alsoWrite?: () => void): Promise<void>
  /** Every stored update of `doc`, oldest first. */
  loadDoc(doc: string): Uint8Array[]
  /** Replaces every stored update of `doc` with `snapshot` (must contain them all). */
  compact(doc: string, snapshot: Uint8Array): Promise<void>
  /** Names of stored docs starting with `prefix`. */
  listDocs(prefix: string): string[]
  close(): Promise<void>
}
