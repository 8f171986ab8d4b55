import { join } from 'node:path'
import type { BlobStore } from './blob-store.js'
import { DiskBlobStore } from './disk-store.js'
import { S3BlobStore, type S3Settings } from './s3-store.js'

export type { BlobStore, ByteRange, PutResult, StagedBlob } from './blob-store.js'
export { BlobLock, BlobTooLarge, HEAD_BYTES } from './blob-store.js'
export type { S3Settings } from './s3-store.js'

/** S3 when its settings are given (config.ts), else `<dataDir>/uploads` on local disk. */
export async function openBlobStore(dataDir: string, s3?: S3Settings): Promise<BlobStore> {
  return s3 ? new S3BlobStore(s3) : DiskBlobStore.open(join(dataDir, 'uploads'))
}
