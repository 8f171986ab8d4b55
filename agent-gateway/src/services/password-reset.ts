import { and, eq, gt, isNull } from 'drizzle-orm'
import { members, passwordResets, users } from '@circlechat/db'
import { hashPassword } from '../auth/passwords.js'
import { hashSecret, randomSecret } from '../auth/tokens.js'
import type { Gateway } from '../deps.js'
import { notFound } from '../errors.js'
import { resetMail } from '../mail/index.js'
import type { Tx } from './accounts.js'
import { announceEnded, endSessions } from './user-sessions.js'

/** An hour: enough to find the mail, short enough that an old mailbox is no key to the account. */
export const RESET_TTL_MS = 60 * 60_000

const invalid = () => notFound('reset_invalid', 'This reset link is invalid, expired or already used; ask for a new one from the sign-in page.')

/**
 * "Forgot password?": when `email` belongs to an active person, stores the hash of a new
 * single-use token (earlier unused ones stop working) and mails the link, or logs it without
 * SMTP. Returns at once either way, and the caller answers the same either way, so the form
 * cannot tell who has an account; the mail is sent after the answer, so neither can its timing.
 */
export function requestPasswordReset(gw: Gateway, email: string, now = Date.now()): void {
  const row = gw.db
    .select({ id: users.id })
    .from(users)
    .innerJoin(members, and(eq(members.userId, users.id), eq(members.deactivated, false)))
    .where(eq(users.email, email))
    .get()
  if (!row) return
  const token = randomSecret()
  gw.db.transaction((tx) => {
    tx.delete(passwordResets).where(and(eq(passwordResets.userId, row.id), isNull(passwordResets.usedAt))).run()
    tx.insert(passwordResets).values({ tokenHash: hashSecret(token), userId: row.id, createdAt: now, expiresAt: now + RESET_TTL_MS }).run()
  })
  const url = `${gw.config.publicBaseUrl}/reset/${token}`
  gw.mail.send(resetMail({ to: email, url, minutes: RESET_TTL_MS / 60_000 }))
    .catch((err: unknown) => console.error(`could not mail the password reset link to ${email}:`, err instanceof Error ? err.message : err))
}

function usableReset(tx: Tx, token: string, now: number) {
  return tx
    .select({ reset: passwordResets, email: users.email })
    .from(passwordResets)
    .innerJoin(users, eq(users.id, passwordResets.userId))
    .innerJoin(members, and(eq(members.userId, users.id), eq(members.deactivated, false)))
    .where(and(eq(passwordResets.tokenHash, hashSecret(token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)))
    .get()
}

/** For the reset page: whose password the link resets (the link holder was mailed that address). */
export function lookupPasswordReset(gw: Gateway, token: string, now = Date.now()): { email: string } {
  const row = usableReset(gw.db, token, now)
  if (!row) throw invalid()
  return { email: row.email }
}

/**
 * Sets the new password and spends the token; every session of the person ends (their sync
 * sockets close now), since whoever knew the old password may hold one. Returns the user, whom
 * the route signs in afresh.
 */
export async function completePasswordReset(gw: Gateway, token: string, password: string): Promise<{ userId: string; email: string }> {
  if (!usableReset(gw.db, token, Date.now())) throw invalid()
  const passwordHash = await hashPassword(password)
  const now = Date.now()
  const { userId, email, ended } = gw.db.transaction((tx) => {
    // Re-read inside the transaction: the hash above yielded, and the token may be spent by now.
    const row = usableReset(tx, token, now)
    if (!row) throw invalid()
    const spent = tx.update(passwordResets).set({ usedAt: now })
      .where(and(eq(passwordResets.tokenHash, row.reset.tokenHash), isNull(passwordResets.usedAt))).run()
    if (spent.changes !== 1) throw invalid()
    tx.delete(passwordResets).where(and(eq(passwordResets.userId, row.reset.userId), isNull(passwordResets.usedAt))).run()
    tx.update(users).set({ passwordHash }).where(eq(users.id, row.reset.userId)).run()
    const ended = endSessions(tx, row.reset.userId)
    return { userId: row.reset.userId, email: row.email, ended }
  })
  announceEnded(gw, ended)
  return { userId, email }
}
