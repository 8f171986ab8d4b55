import { existsSync } from 'node:fs'
import { chown, mkdir, readFile, readdir, rename, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { BLOBS_DIR, DB_FILE, FORMAT, KEY_FILE, MANIFEST, blobPath, copyHashed, fsync, listBlobs, type Manifest } from './layout.js'

export interface RestoreOptions {
  /** A folder `backup()` wrote. */
  from: string
  /** An empty or new DATA_DIR. */
  dataDir: string
  log?: (line: string) => void
}

/**
 * Restores a backup into an empty DATA_DIR. It never overwrites: a DATA_DIR with anything in it
 * is refused, so a restore cannot destroy the data it was meant to rescue. The database is
 * copied under a temporary name, checked against the manifest, and renamed last: an interrupted
 * restore leaves no circlechat.db a server would start on. Run as root into a folder owned by
 * the service user (systemd's StateDirectory), the restored files get that folder's owner.
 */
export async function restore(opts: RestoreOptions): Promise<Manifest> {
  const log = opts.log ?? (() => {})
  const from = resolve(opts.from)
  const dataDir = resolve(opts.dataDir)
  const manifestFile = join(from, MANIFEST)
  if (!existsSync(manifestFile)) throw new Error(`${from} is not a CircleChat backup (no ${MANIFEST}; an interrupted backup has none)`)
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest
  if (manifest.format !== FORMAT) throw new Error(`${from} is a backup of format ${manifest.format}; this version reads format ${FORMAT}`)
  if (existsSync(dataDir)) {
    const entries = await readdir(dataDir)
    if (entries.length > 0) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '')
      throw new Error(`DATA_DIR ${dataDir} is not empty (${shown}). Restore only goes into an empty or new folder, so nothing is overwritten: stop the server, move that folder aside (or point DATA_DIR at a new one), and run restore again.`)
    }
  }
  await mkdir(dataDir, { recursive: true })
  const owner = await stat(dataDir)
  const own = async (path: string) => {
    if (process.getuid?.() === 0 && owner.uid !== 0) await chown(path, owner.uid, owner.gid)
  }

  const blobsFrom = join(from, BLOBS_DIR)
  const blobsTo = join(dataDir, BLOBS_DIR)
  let count = 0
  for (const sha of await listBlobs(blobsFrom)) {
    const to = blobPath(blobsTo, sha)
    if (!existsSync(dirname(to))) {
      await mkdir(dirname(to), { recursive: true })
      for (const d of [join(dataDir, 'uploads'), blobsTo, dirname(to)]) await own(d)
    }
    await copyHashed(blobPath(blobsFrom, sha), to)
    await own(to)
    count++
  }
  if (count !== manifest.blobs.count) throw new Error(`${from} holds ${count} blobs but its manifest says ${manifest.blobs.count}: the backup is damaged`)
  if (manifest.serverKey) {
    await copyHashed(join(from, KEY_FILE), join(dataDir, KEY_FILE), 0o600)
    await own(join(dataDir, KEY_FILE))
  }
  const staged = join(dataDir, `${DB_FILE}.restoring`)
  const db = await copyHashed(join(from, DB_FILE), staged, 0o600)
  if (db.sha256 !== manifest.db.sha256) throw new Error(`${join(from, DB_FILE)} does not match its manifest (sha256 differs): the backup is damaged. ${staged} is left for inspection.`)
  await own(staged)
  await rename(staged, join(dataDir, DB_FILE))
  await fsync(dataDir)
  log(`restored the backup of ${manifest.createdAt}: database ${db.bytes} bytes, ${count} blobs${manifest.s3 ? ' (files are in S3: restore the bucket with its own tools)' : ''}`)
  return manifest
}
