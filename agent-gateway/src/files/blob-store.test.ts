import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { BlobTooLarge, type BlobStore } from './blob-store.js'
import { DiskBlobStore } from './disk-store.js'
import { S3BlobStore } from './s3-store.js'
import { startS3rver } from '../test/s3rver.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
/** A body arriving in small chunks, as from a socket. */
const chunked = (b: Buffer, size = 64 * 1024) => Readable.from((function* () {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
})())
const read = async (s: Readable | null) => (s ? Buffer.from(await s.toArray().then((c) => Buffer.concat(c))) : null)

function contract(name: string, open: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>) {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore
    let cleanup: () => Promise<void>
    beforeAll(async () => ({ store, cleanup } = await open()))
    afterAll(() => cleanup())

    it('stores bytes under their SHA-256 and reads them back whole and by range', async () => {
      const bytes = randomBytes(300_000)
      const put = await store.put(chunked(bytes))
      expect(put).toMatchObject({ sha256: sha(bytes), size: bytes.length })
      expect(put.head.equals(bytes.subarray(0, 4100))).toBe(true)
      expect(await store.head(put.sha256)).toEqual({ size: bytes.length })
      expect((await read(await store.get(put.sha256)))!.equals(bytes)).toBe(true)
      expect((await read(await store.get(put.sha256, { start: 1000, end: 1999 })))!.equals(bytes.subarray(1000, 2000))).toBe(true)
      expect((await read(await store.get(put.sha256, { start: bytes.length - 1, end: bytes.length - 1 })))!.equals(bytes.subarray(-1))).toBe(true)
    })

    it('shows a staged blob only once committed, and discarding one leaves nothing', async () => {
      const bytes = Buffer.from(`staged ${randomBytes(8).toString('hex')}`)
      const staged = await store.stage(Readable.from([bytes]))
      expect(staged).toMatchObject({ sha256: sha(bytes), size: bytes.length })
      expect(await store.head(staged.sha256)).toBeNull()
      await staged.commit()
      expect((await read(await store.get(staged.sha256)))!.equals(bytes)).toBe(true)
      const dropped = await store.stage(Readable.from([Buffer.from('never committed')]))
      await dropped.discard()
      expect(await store.head(dropped.sha256)).toBeNull()
    })

    it('stores the same bytes once and deletes them', async () => {
      const bytes = Buffer.from('same bytes twice')
      const a = await store.put(Readable.from([bytes]))
      const b = await store.put(Readable.from([bytes]))
      expect(a.sha256).toBe(b.sha256)
      await store.delete(a.sha256)
      expect(await store.head(a.sha256)).toBeNull()
      expect(await store.get(a.sha256)).toBeNull()
      await store.delete(a.sha256) // absent: not an error
    })

    it('spans several multipart parts', async () => {
      const bytes = randomBytes(11 * 1024 * 1024 + 17)
      const put = await store.put(chunked(bytes))
      expect(put.sha256).toBe(sha(bytes))
      expect(await store.head(put.sha256)).toEqual({ size: bytes.length })
      const tail = await read(await store.get(put.sha256, { start: 10 * 1024 * 1024, end: bytes.length - 1 }))
      expect(tail!.equals(bytes.subarray(10 * 1024 * 1024))).toBe(true)
    })

    it('refuses a body over the limit mid-stream and keeps nothing', async () => {
      const bytes = randomBytes(200_000)
      await expect(store.put(chunked(bytes, 16 * 1024), { maxBytes: 100_000 })).rejects.toBeInstanceOf(BlobTooLarge)
      expect(await store.head(sha(bytes))).toBeNull()
    })

    it('fails a put whose source fails, and keeps nothing', async () => {
      const source = new Readable({ read() {} })
      source.push(Buffer.from('partial'))
      setTimeout(() => source.destroy(new Error('connection cut')), 20)
      await expect(store.put(source)).rejects.toThrow('connection cut')
      expect(await store.head(sha(Buffer.from('partial')))).toBeNull()
    })

    it('never takes a name that is not a digest', async () => {
      for (const bad of ['../../etc/passwd', 'blobs/../x', 'A'.repeat(64), '']) {
        await expect(store.head(bad)).rejects.toThrow('not a SHA-256')
        await expect(store.get(bad)).rejects.toThrow('not a SHA-256')
        await expect(store.delete(bad)).rejects.toThrow('not a SHA-256')
      }
    })
  })
}

contract('disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'cc-blobs-'))
  const store = await DiskBlobStore.open(root)
  return {
    store,
    cleanup: async () => {
      // No temp file outlives its put, whether it succeeded or failed.
      expect(await readdir(join(root, 'tmp'))).toEqual([])
      await rm(root, { recursive: true, force: true })
    }
  }
})

contract('s3 (s3rver on loopback)', async () => {
  const s3 = await startS3rver()
  const store = new S3BlobStore(s3.settings)
  return {
    store,
    cleanup: async () => {
      store.close()
      await s3.close()
    }
  }
})

