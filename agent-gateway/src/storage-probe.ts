import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openDb, type Db } from '@circlechat/db'

/**
 * Opens the database, refusing storage that cannot keep writes. SQLite may open a read-only or
 * full file and answer reads happily; the first write would fail after we had already said "listening". So
 * at start we take SQLite's write lock (BEGIN IMMEDIATE fails on a read-only database) and write
 * a probe file where uploads go (fails on a read-only or full filesystem).
 */
export function openWritableDb(dataDir: string): Db {
  let db: Db | null = null
  try {
    // A probe in DATA_DIR itself first: SQLite reports a read-only folder as "unable to open
    // database file", the filesystem says what is wrong (EROFS, EACCES, ENOSPC).
    mkdirSync(dataDir, { recursive: true })
    const here = join(dataDir, `.write-probe-${process.pid}`)
    writeFileSync(here, 'probe')
    rmSync(here)
    db = openDb(join(dataDir, 'circlechat.db'))
    db.$client.exec('BEGIN IMMEDIATE; ROLLBACK')
    const uploads = join(dataDir, 'uploads')
    mkdirSync(uploads, { recursive: true })
    const probe = join(uploads, `.write-probe-${process.pid}`)
    writeFileSync(probe, 'probe')
    rmSync(probe)
    return db
  } catch (err) {
    db?.$client.close()
    const why = err instanceof Error ? err.message : String(err)
    throw new Error(`DATA_DIR ${dataDir} cannot be written (${why}). CircleChat will not start on storage that cannot keep what people write: free space or make it writable, then start again.`, { cause: err })
  }
}
