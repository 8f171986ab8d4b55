import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { oidcPending, openDb, type Db } from '@circlechat/db'
import { hashSecret } from '../auth/tokens.js'
import { PENDING_TTL_MS, peekPending, putPending, takePending } from './pending.js'

let dir: string
let db: Db

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cc-oidc-pending-'))
  db = openDb(join(dir, 'test.db'))
})
afterEach(async () => {
  db.$client.close()
  await rm(dir, { recursive: true, force: true })
})

describe('OIDC pending state', () => {
  it('keeps only the hash of the key, and gives the data back once', () => {
    const key = putPending(db, 'login', { nonce: 'n', verifier: 'v' })!
    expect(db.select().from(oidcPending).all().map((r) => r.id)).toEqual([hashSecret(key)])
    expect(peekPending(db, 'login', key)).toEqual({ nonce: 'n', verifier: 'v' })
    expect(takePending(db, 'link', key)).toBeNull()
    expect(takePending(db, 'login', key)).toEqual({ nonce: 'n', verifier: 'v' })
    expect(takePending(db, 'login', key)).toBeNull()
  })

  it('forgets state after ten minutes, and sweeps expired rows on the next write', () => {
    const t0 = 1_000_000
    const key = putPending(db, 'login', { nonce: 'n', verifier: 'v' }, undefined, t0)!
    expect(peekPending(db, 'login', key, t0 + PENDING_TTL_MS)).toBeNull()
    expect(takePending(db, 'login', key, t0 + PENDING_TTL_MS)).toBeNull()
    const old = putPending(db, 'login', { nonce: 'a', verifier: 'b' }, undefined, t0)!
    putPending(db, 'login', { nonce: 'c', verifier: 'd' }, undefined, t0 + PENDING_TTL_MS + 1)
    expect(db.select().from(oidcPending).all()).toHaveLength(1)
    expect(takePending(db, 'login', old, t0 + 1)).toBeNull()
  })
})
