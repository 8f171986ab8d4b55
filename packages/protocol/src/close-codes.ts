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
  /** The server reloaded its copy of the document from storage; reconnect and re-sync. Outside
   *  4400–4499, which y-websocket treats as final. */
  resync: 4009,
  /** A newer socket for the same agent replaced this one. */
  replaced: 4000,
  /** The client read too slowly: its send buffer passed the server's limit. Reconnect. */
  tooSlow: 4408,
  /** The server is restarting (graceful drain on SIGTERM); RFC 6455's Service Restart. Reconnect. */
  restarting: 1012
} as const
export type CloseCode = (typeof closeCode)[keyof typeof closeCode]
