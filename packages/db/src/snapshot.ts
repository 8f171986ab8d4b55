import Database from 'better-sqlite3'

/**
 * Copies the SQLite file at `file` to `dest` (which must not exist) with SQLite's online backup
 * API, while other processes keep writing: the copy is one consistent moment of the database,
 * every transaction committed before it and none after. The backup restarts whenever another
 * connection writes between two of its steps, so after the first step it copies all remaining
 * pages in one step, under one read lock: it cannot be starved by a steady stream of writes.
 * The copy is then checked (integrity_check) and turned into a single self-contained file;
 * `inspect` may read it (with SQL) before it is closed.
 */
export async function snapshotSqlite<T = undefined>(file: string, dest: string, inspect?: (copy: Database.Database) => T): Promise<{ pages: number; inspected: T | undefined }> {
  const source = new Database(file, { fileMustExist: true })
  let pages = 0
  try {
    source.pragma('busy_timeout = 5000')
    await source.backup(dest, {
      progress: ({ totalPages }) => {
        pages = totalPages
        return Math.max(totalPages, 1)
      }
    })
  } finally {
    source.close()
  }
  const copy = new Database(dest, { fileMustExist: true })
  try {
    const check = copy.pragma('integrity_check', { simple: true })
    if (check !== 'ok') throw new Error(`the copy of ${file} failed SQLite's integrity check: ${String(check)}`)
    // A backup keeps the source's WAL mode; one plain file is easier to move and verify.
    copy.pragma('journal_mode = DELETE')
    return { pages, inspected: inspect?.(copy) }
  } finally {
    copy.close()
  }
}
