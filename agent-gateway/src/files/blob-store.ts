import { createHash } from 'node:crypto'
import { Transform, type Readable, type TransformCallback } from 'node:stream'

/**
 * Where file bytes live: a folder under DATA_DIR (disk-store.ts) or an S3-compatible bucket
 * (s3-store.ts). Blobs are named by their SHA-256, so the same bytes uploaded twice are stored
 * once; who may read them is decided by the `files` table, never by knowing a hash.
 */
export interface BlobStore {
  /**
   * Streams `body` to a temporary place, hashing as it goes. Nothing exists under the hash until
   * `commit()`; `discard()` drops it. Lets the caller publish the blob and its record together.
   */
  stage(body: Readable, opts?: PutOptions): Promise<StagedBlob>
  /** stage() and commit() in one: the blob exists under its hash once this resolves. */
  put(body: Readable, opts?: PutOptions): Promise<PutResult>
  /** The blob's bytes, or `start..end` of them (inclusive, like HTTP Range); null if absent. */
  get(sha256: string, range?: ByteRange): Promise<Readable | null>
  head(sha256: string): Promise<{ size: number } | null>
  /** Removing an absent blob is not an error. */
  delete(sha256: string): Promise<void>
  readonly kind: 'disk' | 's3'
  /** Releases connections (S3); the disk store holds none. */
  close(): void
}

export interface PutOptions {
  /** More bytes than this fail the put with BlobTooLarge; nothing is kept. */
  maxBytes?: number
}

export interface PutResult {
  sha256: string
  size: number
  /** The first bytes (up to HEAD_BYTES), for content sniffing without reading the blob again. */
  head: Buffer
}

export interface StagedBlob extends PutResult {
  commit(): Promise<void>
  discard(): Promise<void>
}

/** put() for every store: stage, then commit, discarding what a failed commit left. */
export async function stageAndCommit(store: BlobStore, body: Readable, opts?: PutOptions): Promise<PutResult> {
  const staged = await store.stage(body, opts)
  try {
    await staged.commit()
  } catch (err) {
    await staged.discard()
    throw err
  }
  return { sha256: staged.sha256, size: staged.size, head: staged.head }
}

/**
 * Runs blob publications and removals one at a time (both are short: a rename or copy and a row,
 * a check and a delete), so the collector can never delete a blob in the instant between an
 * upload of the same bytes committing it and recording it.
 */
export class BlobLock {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#tail.then(fn)
    this.#tail = run.catch(() => {})
    return run
  }
}

export interface ByteRange {
  start: number
  end: number
}

/** Enough for file-type's signatures and a text check. */
export const HEAD_BYTES = 4100

export class BlobTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`)
  }
}

const SHA256 = /^[0-9a-f]{64}$/
/** A blob name is a hex digest and nothing else, so no name can leave the store's folder or prefix. */
export function assertSha256(sha256: string): string {
  if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${JSON.stringify(sha256.slice(0, 80))}`)
  return sha256
}

/**
 * Passes bytes through, hashing and counting them, keeping the first HEAD_BYTES, and failing
 * with BlobTooLarge past the limit (so an oversized body is cut off mid-stream, not after).
 */
export class Meter extends Transform {
  #hash = createHash('sha256')
  #head: Buffer[] = []
  #headLength = 0
  // Not `size`: lib-storage reads a Body's `size` as its length.
  #bytes = 0

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.#bytes += chunk.length
    if (this.#bytes > this.maxBytes) return done(new BlobTooLarge(this.maxBytes))
    this.#hash.update(chunk)
    if (this.#headLength < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.#headLength)
      this.#head.push(Buffer.from(part))
      this.#headLength += part.length
    }
    done(null, chunk)
  }

  result(): PutResult {
    return { sha256: this.#hash.digest('hex'), size: this.#bytes, head: Buffer.concat(this.#head) }
  }
}
