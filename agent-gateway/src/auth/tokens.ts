import { createHash } from 'node:crypto'
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'

/** 20 random bytes (160 bits): unguessable, and short enough for a cookie or a URL. */
export function randomSecret(): string {
  const bytes = new Uint8Array(20)
  crypto.getRandomValues(bytes)
  return encodeBase32LowerCaseNoPadding(bytes)
}

/**
 * What we store for any secret (session token, invite token, bot token): hex(sha256(secret)).
 * A leaked database then yields no usable secret; a plain hash suffices because the secrets are
 * random, not chosen by people.
 */
export function hashSecret(secret: string): string {
  // node:crypto rather than a JS sha256: it runs on every authenticated request.
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Bot tokens carry a `cc_` prefix so they are recognisable in logs and secret scanners. */
export const BOT_TOKEN_PREFIX = 'cc_'

/** A new bot token; store `hashSecret(token)` (of the whole string, prefix included) in agents.tokenHash. */
export const newBotToken = () => `${BOT_TOKEN_PREFIX}${randomSecret()}`
