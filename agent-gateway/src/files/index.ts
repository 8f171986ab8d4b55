import { join } from 'node:path'
import type { BlobStore } from './blob-store.js'
import { DiskBlobStore } from './disk-store.js'
import type { S3Settings } from './s3-store.js'

export type { BlobStore, ByteRange, PutResult, StagedBlob } from './blob-store.js'
export { BlobLock, BlobTooLarge, HEAD_BYTES } from './blob-store.js'
export type { S3Settings } from './s3-store.js'

/** S3 when its settings are given (config.ts), else `<dataDir>/uploads` on local disk. */
export async function openBlobStore(dataDir: string, s3?: S3Settings): Promise<BlobStore> {
  if (!s3) return DiskBlobStore.open(join(dataDir, 'uploads'))
  // The AWS SDK loads only when S3 is configured: it costs ~250 ms of every start.
  const { S3BlobStore } = await import('./s3-store.js')
  return new S3BlobStore(s3)
}
