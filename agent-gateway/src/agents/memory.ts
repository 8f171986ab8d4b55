import { and, eq } from 'drizzle-orm'
import { agentMemory, type Db } from '@circlechat/db'

export type MemoryScope = 'global' | 'conversation' | 'task'
/** A value is fed back into every packet; keep it small. */
export const MAX_MEMORY_VALUE_BYTES = 8 * 1024

export function setMemory(db: Db, agentId: string, scope: MemoryScope, scopeId: string, key: string, value: unknown) {
  const now = Date.now()
  db.insert(agentMemory).values({ agentId, scope, scopeId, key, value, updatedAt: now })
    .onConflictDoUpdate({ target: [agentMemory.agentId, agentMemory.scope, agentMemory.scopeId, agentMemory.key], set: { value, updatedAt: now } })
    .run()
}

export function deleteMemory(db: Db, agentId: string, scope: MemoryScope, scopeId: string, key: string): boolean {
  return db.delete(agentMemory).where(and(eq(agentMemory.agentId, agentId), eq(agentMemory.scope, scope), eq(agentMemory.scopeId, scopeId), eq(agentMemory.key, key))).run().changes > 0
}
