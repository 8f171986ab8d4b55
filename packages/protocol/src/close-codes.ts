/** WebSocket close codes the relay uses; 4xxx is the application range. */
export const closeCode = {
  /** No valid session cookie or bot token on the upgrade or socket. */
  unauthorized: 4401,
  /** Authenticated, but not allowed to read this document (not a member). */
  forbidden: 4403,
  /** The document name does not parse. */
  badDocName: 4400,
  /** Too many updates too fast; reconnect later. */
  rateLimited: 4429,
  /** Membership was revoked while connected. */
  revoked: 4410,
  /** A newer socket for the same agent replaced this one. */
  replaced: 4000
} as const
export type CloseCode = (typeof closeCode)[keyof typeof closeCode]
