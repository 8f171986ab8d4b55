/**
 * Messages our relay adds on top of the y-websocket protocol (sync = 0, awareness = 1).
 * The y-websocket client lets a provider register extra handlers by message type, so these
 * numbers must never collide with y-websocket's own (0–3).
 */
export const PROTOCOL_VERSION = 1

export const messageType = {
  sync: 0,
  awareness: 1,
  /** Server → client: the last update was refused; payload varString reason, varString detail. */
  reject: 100,
  /** Server → client: varUint count of this connection's updates now durable in SQLite. */
  ack: 101
} as const

/** Why the guard refused an update. Sent to the client, recorded in logs, asserted in tests. */
export const rejectReason = {
  notMember: 'notMember',
  readOnly: 'readOnly',
  notAuthor: 'notAuthor',
  serverOnlyField: 'serverOnlyField',
  immutableField: 'immutableField',
  invalidField: 'invalidField',
  foreignClient: 'foreignClient',
  unresolvable: 'unresolvable',
  tooLarge: 'tooLarge',
  rateLimited: 'rateLimited',
  malformed: 'malformed',
  sealed: 'sealed',
  /** Two items for one map key in one update that are not a chain of edits: only one would win. */
  duplicateKey: 'duplicateKey',
  /** The change could not be stored (disk full, read-only); nothing was applied or relayed. */
  storageFailure: 'storageFailure'
} as const
export type RejectReason = (typeof rejectReason)[keyof typeof rejectReason]
