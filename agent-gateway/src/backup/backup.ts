import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { snapshotSqlite } from '@circlechat/db'
import { BLOBS_DIR, DB_FILE, FORMAT, KEY_FILE, MANIFEST, blobPath, copyHashed, fsync, hashFile, listBlobs, type Manifest } from './layout.js'

export interface BackupOptions {
  dataDir: string
  /** The folder to create; it must not exist or be empty. */
  dest: string
  /** Files live in S3 (S3_* set): there are no local uploads to copy. */
  s3?: boolean
  log?: (line: string) => void
}

/**
 * Takes a backup of a DATA_DIR, whether or not a server is running on it. Written to a sibling
 * `<dest>.partial-<pid>` folder and renamed into place at the end, so `dest` is either a whole
 * backup or absent. Blobs are copied in two passes around the database snapshot: a blob the
 * snapshot names was written before its row, so it is there in the first pass, or, when it was
 * uploaded meanwhile, in the second. A blob uploaded after the snapshot is copied too if the
 * second pass sees it; the restored database names it nowhere, and it is harmless.
 */
export async function backup(opts: BackupOptions): Promise<Manifest> {
  const log = opts.log ?? (() => {})
  const dataDir = resolve(opts.dataDir)
  const dest = resolve(opts.dest)
  if (!existsSync(join(dataDir, DB_FILE))) throw new Error(`no database at ${join(dataDir, DB_FILE)}: is DATA_DIR right?`)
  if (existsSync(dest) && (await readdir(dest)).length > 0) throw new Error(`${dest} is not empty: give each backup its own new folder, e.g. ${join(dest, new Date().toISOString().slice(0, 10))}`)
  if (dest === dataDir || dest.startsWith(`${dataDir}/`)) throw new Error(`${dest} is inside DATA_DIR: keep backups elsewhere, ideally on another disk`)

  const work = join(dirname(dest), `.${basename(dest)}.partial-${process.pid}`)
  await mkdir(work, { recursive: true })
  try {
    const blobsFrom = join(dataDir, BLOBS_DIR)
    const blobsTo = join(work, BLOBS_DIR)
    const copied = new Set<string>()
    const missing: string[] = []
    let bytes = 0
    const copyBlobs = async () => {
      for (const sha of await listBlobs(blobsFrom)) {
        if (copied.has(sha)) continue
        await mkdir(dirname(blobPath(blobsTo, sha)), { recursive: true })
        try {
          const c = await copyHashed(blobPath(blobsFrom, sha), blobPath(blobsTo, sha))
          if (c.sha256 !== sha) log(`warning: uploads/blobs/${sha.slice(0, 2)}/${sha} does not hold the bytes its name says (disk damage?); copied as it is`)
          bytes += c.bytes
          copied.add(sha)
        } catch (err) {
          // Deleted by the collector between the listing and the copy: nothing can name it.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
          await rm(blobPath(blobsTo, sha), { force: true })
        }
      }
    }

    if (!opts.s3) await copyBlobs()
    const startedAt = new Date()
    const { pages, inspected } = await snapshotSqlite(join(dataDir, DB_FILE), join(work, DB_FILE), (copy) =>
      copy.prepare('SELECT sha256 FROM files UNION SELECT thumb_sha256 FROM files WHERE thumb_sha256 IS NOT NULL').pluck().all() as string[])
    log(`database: ${pages} pages copied as of ${startedAt.toISOString()}`)
    if (!opts.s3) {
      await copyBlobs()
      // Uploaded between the passes and collected before the second: say so rather than hide it.
      for (const sha of inspected ?? []) if (!copied.has(sha)) missing.push(sha)
      for (const sha of missing) log(`warning: blob ${sha} is named by the database but was gone from DATA_DIR before it could be copied`)
      log(`uploads: ${copied.size} blobs, ${bytes} bytes`)
    }
    const db = await hashFile(join(work, DB_FILE))
    const serverKey = existsSync(join(dataDir, KEY_FILE))
    if (serverKey) await copyHashed(join(dataDir, KEY_FILE), join(work, KEY_FILE), 0o600)
    else log(`warning: no ${KEY_FILE} in DATA_DIR (has a server ever started on it?)`)

    const manifest: Manifest = {
      format: FORMAT, createdAt: startedAt.toISOString(), db, serverKey,
      blobs: { count: copied.size, bytes }, s3: opts.s3 ?? false, missingBlobs: missing
    }
    await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
    await fsync(join(work, MANIFEST))
    await fsync(work)
    if (existsSync(dest)) await rm(dest, { recursive: true }) // empty, checked above
    await rename(work, dest)
    await fsync(dirname(dest))
    return manifest
  } catch (err) {
    await rm(work, { recursive: true, force: true })
    throw err
  }
}
