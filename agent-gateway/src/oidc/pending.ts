import { and, count, eq, gt, lte } from 'drizzle-orm'
import { oidcPending, type Db } from '@circlechat/db'
import { hashSecret, randomSecret } from '../auth/tokens.js'

/** 10 minutes: enough to type a password at the provider, short enough that a leaked URL goes stale. */
export const PENDING_TTL_MS = 10 * 60 * 1000
/**
 * Live rows per purpose. Anyone may start a sign-in, so without a cap a script could fill the
 * table; 10,000 is far above what a team signs in within ten minutes.
 */
const MAX_LIVE = 10_000

export type Purpose = 'login' | 'link'

/** What a sign-in keeps between the redirect to the provider and its callback. */
export interface LoginState {
  nonce: string
  verifier: string
}

/** A provider identity waiting for its member's password before it is linked. */
export interface LinkState {
  issuer: string
  subject: string
  email: string
  userId: string
}

type DataOf<P extends Purpose> = P extends 'login' ? LoginState : LinkState

/**
 * Stores `data` under hex(sha256(key)) and returns the key (the browser's half, sent in a
 * cookie or the `state` parameter). Null when the table is full of live rows.
 */
export function putPending<P extends Purpose>(db: Db, purpose: P, data: DataOf<P>, key = randomSecret(), now = Date.now()): string | null {
  db.delete(oidcPending).where(lte(oidcPending.expiresAt, now)).run()
  const live = db.select({ n: count() }).from(oidcPending).where(and(eq(oidcPending.purpose, purpose), gt(oidcPending.expiresAt, now))).get()?.n ?? 0
  if (live >= MAX_LIVE) return null
  db.insert(oidcPending).values({ id: hashSecret(key), purpose, data, expiresAt: now + PENDING_TTL_MS }).run()
  return key
}

/** Single use: the row is deleted as it is read, so a replayed key finds nothing. */
export function takePending<P extends Purpose>(db: Db, purpose: P, key: string, now = Date.now()): DataOf<P> | null {
  const row = db.delete(oidcPending).where(and(eq(oidcPending.id, hashSecret(key)), eq(oidcPending.purpose, purpose))).returning().get()
  if (!row || row.expiresAt <= now) return null
  return row.data as DataOf<P>
}

/** Reads without spending (the link page shows whose account it is about to link). */
export function peekPending<P extends Purpose>(db: Db, purpose: P, key: string, now = Date.now()): DataOf<P> | null {
  const row = db.select().from(oidcPending).where(and(eq(oidcPending.id, hashSecret(key)), eq(oidcPending.purpose, purpose))).get()
  if (!row || row.expiresAt <= now) return null
  return row.data as DataOf<P>
}
