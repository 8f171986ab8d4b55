import { and, count, eq } from 'drizzle-orm'
import { agentMemory, type Db } from '@circlechat/db'

export type MemoryScope = 'global' | 'conversation' | 'task'
/** A value is fed back into every packet; keep it small. */
export const MAX_MEMORY_VALUE_BYTES = 8 * 1024
/** Entries per agent, all scopes: every one is read for every packet. */
export const MAX_MEMORY_ENTRIES = 500

export interface MemoryRef {
  agentId: string
  scope: MemoryScope
  scopeId: string
  key: string
}

/** How a write changes an entry: the new value, or why not. `old` is undefined when there is no entry. */
export type MemoryChange = (old: unknown) => { value: unknown } | { error: string }

/**
 * Reads, changes and writes one entry in one immediate transaction, so two appends (even from
 * two processes on one file) never lose a write. The size and count limits apply to every write.
 */
export function updateMemory(db: Db, ref: MemoryRef, change: MemoryChange): { ok: true } | { ok: false; error: string } {
  const where = and(eq(agentMemory.agentId, ref.agentId), eq(agentMemory.scope, ref.scope), eq(agentMemory.scopeId, ref.scopeId), eq(agentMemory.key, ref.key))
  return db.$client.transaction(() => {
    const row = db.select({ value: agentMemory.value }).from(agentMemory).where(where).get()
    const next = change(row ? row.value : undefined)
    if ('error' in next) return { ok: false as const, error: next.error }
    const value = next.value ?? null
    const bytes = Buffer.byteLength(JSON.stringify(value))
    if (bytes > MAX_MEMORY_VALUE_BYTES) return { ok: false as const, error: `memory values are limited to ${MAX_MEMORY_VALUE_BYTES} bytes (this one would be ${bytes}); rewrite it shorter with memory_rethink` }
    if (!row) {
      const held = db.select({ n: count() }).from(agentMemory).where(eq(agentMemory.agentId, ref.agentId)).get()!.n
      if (held >= MAX_MEMORY_ENTRIES) return { ok: false as const, error: `an agent keeps at most ${MAX_MEMORY_ENTRIES} memory entries; delete_memory one first` }
    }
    const now = Date.now()
    db.insert(agentMemory).values({ ...ref, value, updatedAt: now })
      .onConflictDoUpdate({ target: [agentMemory.agentId, agentMemory.scope, agentMemory.scopeId, agentMemory.key], set: { value, updatedAt: now } })
      .run()
    return { ok: true as const }
  }).immediate()
}

export function deleteMemory(db: Db, agentId: string, scope: MemoryScope, scopeId: string, key: string): boolean {
  return db.delete(agentMemory).where(and(eq(agentMemory.agentId, agentId), eq(agentMemory.scope, scope), eq(agentMemory.scopeId, scopeId), eq(agentMemory.key, key))).run().changes > 0
}
