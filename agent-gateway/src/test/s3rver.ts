import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import type { S3Settings } from '../files/index.js'

/** A real S3-compatible server on loopback over a temp folder, with one bucket. */
export async function startS3rver(): Promise<{ settings: S3Settings; close(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'cc-s3rver-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'circlechat', configs: [] }] })
  const { port } = (await server.run()) as AddressInfo
  return {
    settings: { endpoint: `http://127.0.0.1:${port}`, bucket: 'circlechat', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' },
    close: async () => {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    }
  }
}

