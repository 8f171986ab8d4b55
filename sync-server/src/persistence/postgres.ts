import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import { asc, eq, sql } from 'drizzle-orm'
import type { DocStore } from './store.js'

const { docUpdates } = pgSchema

/** Awaits its queries on the batch's transaction (never on the pool: that would escape it). */
export type PgWrite = (tx: PgTx) => Promise<void>

interface Pending {
  run: (tx: PgTx) => Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

/** An entry's own write failed: the transaction is aborted, the rest of the batch is innocent. */
class EntryFailed extends Error {
  constructor(readonly entry: Pending, readonly error: unknown) {
    super('a write of the batch failed')
  }
}

// A bound on one transaction: a burst is cut into commits of this many, so none holds its
// connection and row locks for long.
const MAX_BATCH = 256

/**
 * PostgreSQL store with group commit: one batch at a time, each in one transaction; appends
 * made in one event-loop turn, or while a batch commits, form the next one. An append resolves only after its COMMIT. A
 * write that fails (a constraint, a throw) aborts the transaction, so the batch is retried
 * without it, and only its own append rejects; a failed COMMIT or a lost connection rejects the
 * whole batch, whose outcome the caller cannot know (the relay then reloads the doc from here).
 * Appends of one process commit in call order, so `id` orders a doc's log (one owner per doc).
 */
export class PgDocStore implements DocStore<PgWrite> {
  readonly #db: PgDb
  #queue: Pending[] = []
  #flushing: Promise<void> | null = null

  constructor(db: PgDb) {
    this.#db = db
  }

  appendUpdate(doc: string, update: Uint8Array, alsoWrite?: PgWrite): Promise<void> {
    const data = Buffer.from(update.buffer, update.byteOffset, update.byteLength)
    return this.#enqueue(async (tx) => {
      await tx.insert(docUpdates).values({ doc, data })
      await alsoWrite?.(tx)
    })
  }

  async loadDoc(doc: string): Promise<Uint8Array[]> {
    const rows = await this.#db.select({ data: docUpdates.data }).from(docUpdates).where(eq(docUpdates.doc, doc)).orderBy(asc(docUpdates.id))
    return rows.map(({ data }) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }

  compact(doc: string, snapshot: Uint8Array): Promise<void> {
    // Queued behind every append already accepted, as on SQLite: the snapshot supersedes
    // exactly the rows deleted here.
    const data = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength)
    return this.#enqueue(async (tx) => {
      await tx.delete(docUpdates).where(eq(docUpdates.doc, doc))
      await tx.insert(docUpdates).values({ doc, data })
    })
  }

  async listDocs(prefix: string): Promise<string[]> {
    // starts_with, not LIKE or a range: no wildcards to escape, and no collation to trust.
    const rows = await this.#db.selectDistinct({ doc: docUpdates.doc }).from(docUpdates).where(sql`starts_with(${docUpdates.doc}, ${prefix})`)
    return rows.map((r) => r.doc)
  }

  /** Settles every queued append; the pool belongs to the caller. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing
  }

  #enqueue(run: Pending['run']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ run, resolve, reject })
      this.#kick()
    })
  }

  #kick() {
    if (this.#flushing || this.#queue.length === 0) return
    // One event-loop turn's appends go together, as on SQLite, then whatever queued meanwhile.
    this.#flushing = new Promise((r) => setImmediate(r)).then(() => this.#flush(this.#queue.splice(0, MAX_BATCH))).finally(() => {
      this.#flushing = null
      this.#kick()
    })
  }

  async #flush(batch: Pending[]) {
    while (batch.length > 0) {
      try {
        await this.#db.transaction(async (tx) => {
          for (const p of batch) {
            try {
              await p.run(tx)
            } catch (err) {
              throw new EntryFailed(p, err)
            }
          }
        })
      } catch (err) {
        if (!(err instanceof EntryFailed)) {
          for (const p of batch) p.reject(err)
          return
        }
        err.entry.reject(err.error)
        batch = batch.filter((p) => p !== err.entry)
        continue
      }
      for (const p of batch) p.resolve()
      return
    }
  }
}
