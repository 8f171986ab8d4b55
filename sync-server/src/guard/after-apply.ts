import type * as Y from 'yjs'
import { messageViolations, snapshotMessage, type MessageSnapshot, type MessageWriteContext } from '@circlechat/model'
import type { Origin } from '../origins.js'

/** A client update being applied, with what the guard decided about it. */
export interface ApplyingUpdate {
  origin: Extract<Origin, { source: 'connection' }>
  /** Yjs client ids the update introduces; bound to its member when it is stored. */
  newClients: number[]
  rules: MessageWriteContext
  /** The existing messages the guard found the update touching, as they were before. */
  before: Map<Y.Map<unknown>, MessageSnapshot>
}

/**
 * The same rules as the guard, as invariants over what the update actually did (packages/model
 * message-rules): O(messages touched). A message changed that the guard did not foresee, or any
 * broken rule, means the guard and Yjs disagreed — the update must not be stored.
 */
export function afterApplyViolations(applying: ApplyingUpdate, created: Y.Map<unknown>[], updated: Y.Map<unknown>[]): string[] {
  const out: string[] = []
  for (const m of created) out.push(...messageViolations(null, snapshotMessage(m), applying.rules))
  for (const m of updated) {
    const before = applying.before.get(m)
    if (!before) out.push('changed a message the guard did not check')
    else out.push(...messageViolations(before, snapshotMessage(m), applying.rules))
  }
  return out
}
