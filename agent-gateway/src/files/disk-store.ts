import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { assertSha256, Meter, stageAndCommit, type BlobStore, type ByteRange, type PutOptions, type PutResult, type StagedBlob } from './blob-store.js'

/**
 * Blobs as files under `<root>/blobs/<first two hex>/<sha256>`. A put writes `<root>/tmp/<random>`
 * and renames it into place on commit, so a reader never sees half a blob and a crash leaves
 * only a temp file (swept at start). Names are hex digests only (assertSha256).
 */
export class DiskBlobStore implements BlobStore {
  readonly kind = 'disk'
  readonly #blobs: string
  readonly #tmp: string

  private constructor(root: string) {
    this.#blobs = join(root, 'blobs')
    this.#tmp = join(root, 'tmp')
  }

  static async open(root: string): Promise<DiskBlobStore> {
    const store = new DiskBlobStore(root)
    // Left by a put that a crash interrupted: nobody can reference them.
    await rm(store.#tmp, { recursive: true, force: true })
    await mkdir(store.#tmp, { recursive: true })
    await mkdir(store.#blobs, { recursive: true })
    return store
  }

  #path(sha256: string): string {
    assertSha256(sha256)
    return join(this.#blobs, sha256.slice(0, 2), sha256)
  }

  async stage(body: Readable, opts: PutOptions = {}): Promise<StagedBlob> {
    const tmp = join(this.#tmp, randomBytes(16).toString('hex'))
    const meter = new Meter(opts.maxBytes)
    try {
      await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx' }))
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    const result = meter.result()
    return {
      ...result,
      commit: async () => {
        const target = this.#path(result.sha256)
        await mkdir(dirname(target), { recursive: true })
        // Same bytes already stored: rename replaces them with identical ones.
        await rename(tmp, target)
      },
      discard: () => rm(tmp, { force: true })
    }
  }

  put(body: Readable, opts?: PutOptions): Promise<PutResult> {
    return stageAndCommit(this, body, opts)
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.#path(sha256)
    if (!(await this.head(sha256))) return null
    return createReadStream(path, range ? { start: range.start, end: range.end } : {})
  }

  async head(sha256: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.#path(sha256))
      return s.isFile() ? { size: s.size } : null
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.#path(sha256), { force: true })
  }

  close() {}
}
