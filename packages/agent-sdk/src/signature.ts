import { createHmac, timingSafeEqual } from 'node:crypto'

// `x-cc-signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the bot token>`.
// Lets a webhook agent reject packets that did not come from its server, even on plain HTTP.

export function signBody(body: string | Buffer, token: string): string {
  return `sha256=${createHmac('sha256', token).update(body).digest('hex')}`
}

/** Constant-time: a byte-by-byte compare would leak how much of a forged signature was right. */
export function verifySignature(body: string | Buffer, header: string | undefined, token: string): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(body, token))
  const given = Buffer.from(header.trim())
  return given.length === expected.length && timingSafeEqual(given, expected)
}
