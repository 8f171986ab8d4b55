import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, users, type Db } from '@circlechat/db'
import { SESSION_TTL_MS, createSession, invalidateSession, validateSessionToken } from './sessions.js'
import { hashSecret } from './tokens.js'
import { principalFromRequest } from './principal.js'

const DAY = 24 * 60 * 60 * 1000

describe('sessions', () => {
  let dir: string
  let db: Db
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-sessions-'))
    db = openDb(join(dir, 'test.db'))
    db.insert(users).values({ id: 'u_1', email: 'a@example.com', passwordHash: 'x', createdAt: 0 }).run()
  })
  afterAll(async () => {
    db.$client.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('stores hex(sha256(token)) and validates the token', () => {
    const { token, session } = createSession(db, 'u_1', 1_000)
    expect(token).toMatch(/^[a-z2-7]{32}$/) // 20 bytes, base32
    expect(session.id).toBe(hashSecret(token))
    expect(session.id).toMatch(/^[0-9a-f]{64}$/)
    expect(validateSessionToken(db, token, 2_000)?.session).toMatchObject({ userId: 'u_1', expiresAt: 1_000 + SESSION_TTL_MS, renewed: false })
    expect(validateSessionToken(db, session.id, 2_000)).toBeNull() // the stored id is not a token
  })

  it('slides forward when under half of the 30 days remain, and expires after', () => {
    const { token } = createSession(db, 'u_1', 0)
    const renewed = validateSessionToken(db, token, 20 * DAY)?.session
    expect(renewed).toMatchObject({ renewed: true, expiresAt: 50 * DAY })
    expect(validateSessionToken(db, token, 21 * DAY)?.session).toMatchObject({ renewed: false, expiresAt: 50 * DAY })
    expect(validateSessionToken(db, token, 50 * DAY)).toBeNull()
    expect(validateSessionToken(db, token, 1)).toBeNull() // expired sessions are deleted
  })

  it('invalidates', () => {
    const { token, session } = createSession(db, 'u_1')
    invalidateSession(db, session.id)
    expect(validateSessionToken(db, token)).toBeNull()
  })

  it('principalFromRequest ignores unknown cookies, malformed and non-cc bearer tokens', () => {
    expect(principalFromRequest(db, new Headers({ cookie: 'cc_session=nope' }))).toBeNull()
    expect(principalFromRequest(db, { authorization: 'Bearer abc' })).toBeNull()
    expect(principalFromRequest(db, { authorization: 'Basic Zm9v' })).toBeNull()
    expect(principalFromRequest(db, {})).toBeNull()
  })
})
