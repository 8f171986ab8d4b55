import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** What a DATA_DIR (and a backup folder) holds, by name. */
export const DB_FILE = 'circlechat.db'
export const KEY_FILE = 'server.key'
export const BLOBS_DIR = join('uploads', 'blobs')
export const MANIFEST = 'manifest.json'
export const FORMAT = 1

export interface Manifest {
  format: number
  createdAt: string
  /** sha256 and size of circlechat.db in the backup. */
  db: { sha256: string; bytes: number }
  serverKey: boolean
  blobs: { count: number; bytes: number }
  /** Files went to S3 (S3_*): back the bucket up with the store's own tools. */
  s3: boolean
  /** Blobs gone from DATA_DIR before they could be copied (deleted by the collector meanwhile). */
  missingBlobs: string[]
}

const SHA256 = /^[0-9a-f]{64}$/

/** `<dir>/blobs/<xx>/<sha256>` for every blob file; temp files and anything else are skipped. */
export async function listBlobs(blobsDir: string): Promise<string[]> {
  const out: string[] = []
  const prefixes = await readdir(blobsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[]
    throw err
  })
  for (const prefix of prefixes.sort()) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue
    for (const name of (await readdir(join(blobsDir, prefix))).sort()) {
      if (SHA256.test(name) && name.startsWith(prefix)) out.push(name)
    }
  }
  return out
}

export const blobPath = (blobsDir: string, sha256: string) => join(blobsDir, sha256.slice(0, 2), sha256)

/** Copies `from` to `to` (which must not exist), returning the bytes' sha256 and size. */
export async function copyHashed(from: string, to: string, mode?: number): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk)
      bytes += chunk.length
      done(null, chunk)
    }
  })
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx', mode }))
  await fsync(to)
  return { sha256: hash.digest('hex'), bytes }
}

/** Flushes a file (or a folder's entries) to the disk: a backup must survive a power cut. */
export async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** sha256 and size of a file's bytes. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.length
  }
  return { sha256: hash.digest('hex'), bytes }
}
