import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import { asc, eq, sql } from 'drizzle-orm'
import type { DocStore } from './store.js'

const { docUpdates } = pgSchema

/** Awaits its queries on the batch's transaction (never on the pool: that would escape it). */
export type PgWrite = (tx: PgTx) => Promise<void>

interface Pending {
  doc: string
  data: Buffer
  /** A snapshot replacing the doc's rows, rather than an append. */
  compact: boolean
  alsoWrite: PgWrite | undefined
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
 * made in one event-loop turn, or while a batch commits, form the next one. A batch's update
 * rows go in one INSERT (a round trip per batch, not per append), then each append's own
 * writes. An append resolves only after its COMMIT. A write that fails (a constraint, a throw)
 * aborts the transaction, so the batch is retried without it and only its own append rejects; a
 * failure that names no entry is retried one entry per transaction. A failed COMMIT or a lost
 * connection rejects the whole batch, whose outcome the caller cannot know (the relay then
 * reloads the doc). Appends of one process commit in call order, so `id` orders a doc's log:
 * one process writes a doc (its owner).
 */
export class PgDocStore implements DocStore<PgWrite> {
  readonly #db: PgDb
  #queue: Pending[] = []
  #flushing: Promise<void> | null = null

  constructor(db: PgDb) {
    this.#db = db
  }

  appendUpdate(doc: string, update: Uint8Array, alsoWrite?: PgWrite): Promise<void> {
    return this.#enqueue(doc, update, false, alsoWrite)
  }

  async loadDoc(doc: string): Promise<Uint8Array[]> {
    const rows = await this.#db.select({ data: docUpdates.data }).from(docUpdates).where(eq(docUpdates.doc, doc)).orderBy(asc(docUpdates.id))
    return rows.map(({ data }) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }

  compact(doc: string, snapshot: Uint8Array): Promise<void> {
    // Queued behind every append already accepted, as on SQLite: the snapshot supersedes
    // exactly the rows deleted here.
    return this.#enqueue(doc, snapshot, true, undefined)
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

  #enqueue(doc: string, bytes: Uint8Array, compact: boolean, alsoWrite: PgWrite | undefined): Promise<void> {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return new Promise((resolve, reject) => {
      this.#queue.push({ doc, data, compact, alsoWrite, resolve, reject })
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
      let written = false
      try {
        await this.#db.transaction(async (tx) => {
          await write(tx, batch)
          written = true
        })
      } catch (err) {
        if (err instanceof EntryFailed) {
          err.entry.reject(err.error)
          batch = batch.filter((p) => p !== err.entry)
          continue
        }
        if (written || batch.length === 1) {
          for (const p of batch) p.reject(err)
          return
        }
        for (const p of batch) await this.#flush([p])
        return
      }
      for (const p of batch) p.resolve()
      return
    }
  }
}

/** The batch in order: each run of appends as one multi-row INSERT, then their own writes. */
async function write(tx: PgTx, batch: Pending[]) {
  let i = 0
  while (i < batch.length) {
    const p = batch[i]!
    if (p.compact) {
      try {
        await tx.delete(docUpdates).where(eq(docUpdates.doc, p.doc))
        await tx.insert(docUpdates).values({ doc: p.doc, data: p.data })
      } catch (err) {
        throw new EntryFailed(p, err)
      }
      i++
      continue
    }
    let end = i
    while (end < batch.length && !batch[end]!.compact) end++
    const run = batch.slice(i, end)
    // VALUES rows take their ids in list order: the log keeps the call order.
    await tx.insert(docUpdates).values(run.map(({ doc, data }) => ({ doc, data })))
    for (const r of run) {
      try {
        await r.alsoWrite?.(tx)
      } catch (err) {
        throw new EntryFailed(r, err)
      }
    }
    i = end
  }
}
