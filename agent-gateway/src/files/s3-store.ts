import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { assertSha256, Meter, stageAndCommit, type BlobStore, type ByteRange, type PutOptions, type PutResult, type StagedBlob } from './blob-store.js'

export interface S3Settings {
  endpoint: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  region: string
}

/** 5 MiB parts (S3's minimum), two in flight: a put holds at most ~10 MiB whatever the file size. */
const PART_SIZE = 5 * 1024 * 1024
const QUEUE_SIZE = 2

/**
 * Blobs as objects `blobs/<sha256>` in one bucket. The hash is known only once the bytes have
 * passed, so a put uploads to `tmp/<random>` (multipart, lib-storage) and commit copies it into place.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3'
  readonly #client: S3Client
  readonly #bucket: string

  constructor(s: S3Settings) {
    this.#bucket = s.bucket
    this.#client = new S3Client({
      endpoint: s.endpoint,
      region: s.region,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      // Path-style URLs work with every S3-compatible server (no per-bucket DNS names).
      forcePathStyle: true,
      // Checksums only where S3 requires them: default checksummed uploads are not understood by
      // every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED'
    })
  }

  #key(sha256: string): string {
    return `blobs/${assertSha256(sha256)}`
  }

  async stage(body: Readable, opts: PutOptions = {}): Promise<StagedBlob> {
    const tmpKey = `tmp/${randomBytes(16).toString('hex')}`
    const dropTmp = () => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: tmpKey })).then(() => {}, () => {})
    const meter = new Meter(opts.maxBytes)
    // pipe() does not forward errors: a failed source must fail the upload too.
    body.once('error', (err) => meter.destroy(err))
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: tmpKey, Body: body.pipe(meter) },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false
    })
    const done = upload.done()
    const failed = new Promise<never>((_, fail) => meter.once('error', fail))
    // Whichever loses the race may still reject; it is already handled by the winner.
    done.catch(() => {})
    failed.catch(() => {})
    try {
      await Promise.race([done, failed])
    } catch (err) {
      await upload.abort().catch(() => {})
      await dropTmp()
      throw err
    }
    const result = meter.result()
    return {
      ...result,
      commit: async () => {
        if (!(await this.head(result.sha256))) {
          await this.#client.send(new CopyObjectCommand({ Bucket: this.#bucket, Key: this.#key(result.sha256), CopySource: `${this.#bucket}/${tmpKey}` }))
        }
        await dropTmp()
      },
      discard: dropTmp
    }
  }

  put(body: Readable, opts?: PutOptions): Promise<PutResult> {
    return stageAndCommit(this, body, opts)
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const res = await this.#client.send(new GetObjectCommand({
        Bucket: this.#bucket, Key: this.#key(sha256), Range: range ? `bytes=${range.start}-${range.end}` : undefined
      }))
      return res.Body as Readable
    } catch (err) {
      if (err instanceof NoSuchKey || err instanceof NotFound) return null
      throw err
    }
  }

  async head(sha256: string): Promise<{ size: number } | null> {
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(sha256) }))
      return { size: res.ContentLength ?? 0 }
    } catch (err) {
      if (err instanceof NotFound || err instanceof NoSuchKey || (err as { name?: string }).name === 'NotFound') return null
      throw err
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(sha256) }))
  }

  close() {
    this.#client.destroy()
  }
}
