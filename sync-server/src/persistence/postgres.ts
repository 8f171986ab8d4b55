import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import { asc, eq, sql } from 'drizzle-orm'
import type { DocStore } from './store.js'

const { docUpdates } = pgSchema

/**
 * Rows of one kind (messages, tasks, bindings, fences) that the appends of a batch write
 * together: a statement for the whole batch, not one per append. `write` gets every append's
 * items in append order, on the batch's transaction, and returns the items it refused (a row held
 * by another doc): their appends reject, the batch is written again without them. A throw names
 * no item: the batch is then written one append per transaction.
 */
export interface PgRowKind<T> {
  write(tx: PgTx, items: readonly T[]): Promise<Array<{ item: number; error: Error }>>
}

/** What an append hands its rows to: they are written with the batch's (`PgRowKind`). */
export interface PgBatch {
  add<T>(kind: PgRowKind<T>, item: T): void
}

/** An append's own rows, added to its batch (never queried directly: that would escape it). */
export type PgWrite = (batch: PgBatch) => void | Promise<void>

interface Pending {
  doc: string
  data: Buffer
  /** A snapshot replacing the doc's rows, rather than an append. */
  compact: boolean
  alsoWrite: PgWrite | undefined
  /** What `alsoWrite` added, in order; collected once, before the batch's first attempt. */
  items: Array<{ kind: PgRowKind<unknown>; item: unknown }>
  resolve: () => void
  reject: (err: unknown) => void
}

/** Entries' own writes failed: the transaction is aborted, the rest of the batch is innocent. */
class EntriesFailed extends Error {
  constructor(readonly failed: Map<Pending, unknown>) {
    super('writes of the batch failed')
  }
}

// A bound on one transaction: a burst is cut into commits of this many, so none holds its
// connection and row locks for long.
const MAX_BATCH = 256

/**
 * PostgreSQL store with group commit: one batch at a time, each in one transaction; appends
 * made in one event-loop turn, or while a batch commits, form the next one. A batch's update
 * rows go in one INSERT, then each kind of row its appends added in a statement or two for
 * them all (`PgRowKind`): a few round trips per batch, not per append. An append resolves only
 * after its COMMIT. Refused rows abort the transaction, so the batch is retried without their
 * appends and only those reject; a failure that names no entry is retried one entry per
 * transaction. A failed COMMIT or a lost connection rejects the whole batch, whose outcome the
 * caller cannot know (the relay then reloads the doc). Appends of one process commit in call order, so `id` orders a doc's log:
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
      this.#queue.push({ doc, data, compact, alsoWrite, items: [], resolve, reject })
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
    batch = await collect(batch)
    while (batch.length > 0) {
      let written = false
      try {
        await this.#db.transaction(async (tx) => {
          await write(tx, batch)
          written = true
        })
      } catch (err) {
        if (err instanceof EntriesFailed) {
          for (const [p, error] of err.failed) p.reject(error)
          batch = batch.filter((p) => !err.failed.has(p))
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

/** Runs each append's `alsoWrite` into its `items`; one that throws rejects before any query. */
async function collect(batch: Pending[]): Promise<Pending[]> {
  const kept: Pending[] = []
  for (const p of batch) {
    if (p.alsoWrite) {
      try {
        await p.alsoWrite({ add: (kind, item) => p.items.push({ kind: kind as PgRowKind<unknown>, item }) })
      } catch (err) {
        p.reject(err)
        continue
      }
      p.alsoWrite = undefined
    }
    kept.push(p)
  }
  return kept
}

/** The batch in order: each run of appends as one multi-row INSERT, then each kind of their rows. */
async function write(tx: PgTx, batch: Pending[]) {
  const failed = new Map<Pending, unknown>()
  let i = 0
  while (i < batch.length) {
    const p = batch[i]!
    if (p.compact) {
      try {
        await tx.delete(docUpdates).where(eq(docUpdates.doc, p.doc))
        await tx.insert(docUpdates).values({ doc: p.doc, data: p.data })
      } catch (err) {
        throw new EntriesFailed(new Map([[p, err]]))
      }
      i++
      continue
    }
    let end = i
    while (end < batch.length && !batch[end]!.compact) end++
    // VALUES rows take their ids in list order: the log keeps the call order.
    await tx.insert(docUpdates).values(batch.slice(i, end).map(({ doc, data }) => ({ doc, data })))
    i = end
  }
  // Kinds in the order the batch first added them, so two processes lock rows in one order.
  const byKind = new Map<PgRowKind<unknown>, { items: unknown[]; from: Pending[] }>()
  for (const p of batch) {
    for (const { kind, item } of p.items) {
      const group = byKind.get(kind) ?? byKind.set(kind, { items: [], from: [] }).get(kind)!
      group.items.push(item)
      group.from.push(p)
    }
  }
  for (const [kind, { items, from }] of byKind) {
    for (const { item, error } of await kind.write(tx, items)) if (!failed.has(from[item]!)) failed.set(from[item]!, error)
  }
  if (failed.size > 0) throw new EntriesFailed(failed)
}
