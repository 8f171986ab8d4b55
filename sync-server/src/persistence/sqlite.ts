import type { Db } from '@circlechat/db'
import { open, type FileHandle } from 'node:fs/promises'
import type { DocStore } from './store.js'

/** Runs inside the batch's transaction, on the same connection; it must not await. */
export type SqliteWrite = (tx: Db) => void

interface Pending {
  run: () => void
  resolve: () => void
  reject: (err: unknown) => void
}

export interface SqliteStoreOptions {
  /** Sync the WAL on libuv's thread pool after each batch's commit instead of inside it
   *  (default, for a file database). Off: the commit's own fsync, on the event loop. */
  syncOffLoop?: boolean
}

/**
 * SQLite store with group commit: appends queued during one event-loop turn are written in a
 * single transaction on setImmediate. With synchronous=FULL a one-row commit costs ~360 µs and a
 * row in a group of 16 ~22 µs, so batching is what lets thousands of posts per second be durable.
 *
 * The fsync is what costs, and with synchronous=FULL SQLite runs it inside COMMIT, on the event
 * loop. So a batch commits with synchronous=NORMAL (in WAL mode: the frames are written, not
 * synced) and the WAL file is then fdatasync'ed on the thread pool; the batch's appends resolve
 * only after that, in batch order. That is the same durability as FULL, whose commit syncs the
 * same file at the same point, without the loop waiting. Only this store's batches commit that
 * way: every other write of the process keeps synchronous=FULL.
 */
export class SqliteStore implements DocStore<SqliteWrite> {
  #db: Db
  #queue: Pending[] = []
  #scheduled = false
  /** The WAL to sync after a batch, or null to let COMMIT sync (in-memory, or the option off). */
  readonly #wal: string | null
  /** Settles when every batch committed so far is synced (or its sync failed). */
  #synced: Promise<void> = Promise.resolve()
  #walFile: Promise<FileHandle> | null = null
  #syncNormal
  #syncFull
  #insert
  #load
  #deleteDoc
  #list

  constructor(db: Db, options: SqliteStoreOptions = {}) {
    this.#db = db
    const sqlite = db.$client
    const wal = !sqlite.memory && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal'
    this.#wal = wal && (options.syncOffLoop ?? true) ? `${sqlite.name}-wal` : null
    this.#syncNormal = sqlite.prepare('PRAGMA synchronous = NORMAL')
    this.#syncFull = sqlite.prepare('PRAGMA synchronous = FULL')
    this.#insert = sqlite.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)')
    this.#load = sqlite.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY id').pluck()
    this.#deleteDoc = sqlite.prepare('DELETE FROM doc_updates WHERE doc = ?')
    this.#list = sqlite.prepare("SELECT DISTINCT doc FROM doc_updates WHERE doc >= ? AND doc < ? || char(1114111)").pluck()
  }

  appendUpdate(doc: string, update: Uint8Array, alsoWrite?: SqliteWrite): Promise<void> {
    return this.#enqueue(() => {
      this.#insert.run(doc, Buffer.from(update.buffer, update.byteOffset, update.byteLength))
      alsoWrite?.(this.#db)
    })
  }

  async loadDoc(doc: string): Promise<Uint8Array[]> {
    return this.loadDocSync(doc)
  }

  /** SQLite only: for the gateway's synchronous readers, until its data access goes async. */
  loadDocSync(doc: string): Uint8Array[] {
    return (this.#load.all(doc) as Buffer[]).map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
  }

  compact(doc: string, snapshot: Uint8Array): Promise<void> {
    // Queued behind every append already accepted, so the snapshot (taken from the live doc,
    // which holds all of them) supersedes exactly the rows deleted here.
    return this.#enqueue(() => {
      this.#deleteDoc.run(doc)
      this.#insert.run(doc, Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength))
    })
  }

  async listDocs(prefix: string): Promise<string[]> {
    return this.#list.all(prefix, prefix) as string[]
  }

  async close(): Promise<void> {
    this.#flush()
    await this.#synced
    await (await this.#walFile?.catch(() => null))?.close()
    this.#walFile = null
  }

  #enqueue(run: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ run, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush() {
    this.#scheduled = false
    const batch = this.#queue
    this.#queue = []
    if (batch.length === 0) return
    const sqlite = this.#db.$client
    const done: Pending[] = []
    if (this.#wal) this.#syncNormal.run()
    try {
      try {
        sqlite.transaction(() => {
          for (const p of batch) p.run()
        })()
        done.push(...batch)
      } catch {
        // One bad write must not lose the others: retry them one by one.
        for (const p of batch) {
          try {
            sqlite.transaction(p.run)()
            done.push(p)
          } catch (e) {
            p.reject(e)
          }
        }
      }
    } finally {
      if (this.#wal) this.#syncFull.run()
    }
    if (!this.#wal) {
      for (const p of done) p.resolve()
      return
    }
    // A later batch's sync covers the earlier ones' frames too, but acks go out in batch order.
    const synced = this.#walHandle(this.#wal).then((file) => file.datasync())
    synced.catch(() => {}) // handled below, once the batches before it settled
    const before = this.#synced
    this.#synced = before.then(() => synced).then(
      () => { for (const p of done) p.resolve() },
      (err: unknown) => { for (const p of done) p.reject(err) }
    )
  }

  /**
   * One descriptor for the store's life: SQLite deletes the WAL only when the last connection
   * to the database closes, and this store's connection is open until close(). A failed open is
   * tried again by the next batch.
   */
  #walHandle(path: string): Promise<FileHandle> {
    if (!this.#walFile) {
      const opening = open(path, 'r')
      this.#walFile = opening
      opening.catch(() => {
        if (this.#walFile === opening) this.#walFile = null
      })
    }
    return this.#walFile
  }
}
