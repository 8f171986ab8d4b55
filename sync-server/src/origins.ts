/**
 * Who made an edit, carried as the Yjs transaction origin, so edits made by the executor or by
 * the server itself are never mistaken for client edits (and never re-guarded or re-triggered).
 */
export type Origin =
  | { source: 'connection'; memberId: string; connectionId: number }
  | { source: 'agent'; agentId: string; memberId: string; runId: string }
  | { source: 'rest'; memberId: string }
  | { source: 'server'; reason: string }

export const isOrigin = (value: unknown): value is Origin =>
  typeof value === 'object' && value !== null && 'source' in value

/** The member an edit is attributed to, if any. */
export const originMember = (origin: Origin): string | null => (origin.source === 'server' ? null : origin.memberId)
