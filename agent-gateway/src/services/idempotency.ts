import { createHash } from 'node:crypto'
import { newId } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { conflict } from '../errors.js'

/**
 * `Idempotency-Key` for REST posts. The key is reserved with a fresh message id before the post
 * (its own commit), and the post writes the message under that id; the message index row and
 * the doc update commit together. So a retry, even after a crash or a restart, finds either the
 * committed message (and answers with it, posting nothing) or no message (and posts it now,
 * under the same id): each message is stored exactly once. Concurrent retries in this process
 * share one in-flight post.
 */

/** Keys are kept a day, as Stripe does: a retry comes within seconds, not days. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/

const inFlight = new WeakMap<Gateway, Map<string, Promise<unknown>>>()
const lastPrune = new WeakMap<Gateway, number>()

export const fingerprint = (parts: Array<string | null | undefined>) =>
  createHash('sha256').update(JSON.stringify(parts.map((p) => p ?? null))).digest('base64url')

export interface Reserved<T> {
  result: T
  /** True when the key had already posted: the answer is the earlier message. */
  replayed: boolean
}

/**
 * Runs `post(messageId)` once per (member, key). `existing(messageId)` reads a committed message
 * back (null if it never committed).
 */
export async function withIdempotencyKey<T>(
  gw: Gateway,
  memberId: string,
  key: string,
  print: string,
  existing: (messageId: string) => T | null,
  post: (messageId: string) => Promise<T>
): Promise<Reserved<T>> {
  let running = inFlight.get(gw)
  if (!running) inFlight.set(gw, (running = new Map()))
  const slot = `${memberId}\u0000${key}`
  const pending = running.get(slot)
  if (pending) {
    await pending.catch(() => {})
    return withIdempotencyKey(gw, memberId, key, print, existing, post)
  }
  const sql = gw.db.$client
  const row = sql.prepare('SELECT message_id, fingerprint FROM idempotency_keys WHERE member_id = ? AND key = ?').get(memberId, key) as
    { message_id: string; fingerprint: string } | undefined
  if (row && row.fingerprint !== print) {
    throw conflict('idempotency_key_reused', 'This Idempotency-Key was already used for a different post; use a new key for a new message.')
  }
  if (row) {
    const found = existing(row.message_id)
    if (found !== null) return { result: found, replayed: true }
  }
  const messageId = row?.message_id ?? newId('message')
  if (!row) {
    prune(gw)
    sql.prepare('INSERT INTO idempotency_keys (member_id, key, message_id, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)').run(memberId, key, messageId, print, Date.now())
  }
  const work = post(messageId)
  running.set(slot, work)
  try {
    return { result: await work, replayed: false }
  } finally {
    running.delete(slot)
  }
}

/** Drops keys past their day, at most once a minute. */
function prune(gw: Gateway, now = Date.now()) {
  if (now - (lastPrune.get(gw) ?? 0) < 60_000) return
  lastPrune.set(gw, now)
  gw.db.$client.prepare('DELETE FROM idempotency_keys WHERE created_at < ?').run(now - IDEMPOTENCY_TTL_MS)
}
