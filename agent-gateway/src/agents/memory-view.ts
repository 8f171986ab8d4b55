import type { Db } from '@circlechat/db'
import type { MemoryScope } from './memory.js'
import { memoryOf } from './store.js'
import type { AgentViewer } from './visibility.js'

/** One memory entry as the agent page shows it: its scope named (a channel, a task). */
export interface MemoryEntryView {
  scope: MemoryScope
  scopeId: string
  /** `#design`, a DM's members, a task's title; null for global memory or a scope that is gone. */
  scopeName: string | null
  key: string
  value: unknown
  updatedAt: number
}

interface ScopeTarget {
  /** The conversation whose members may read this scope; null: anyone who manages the agent. */
  conversationId: string | null
  name: string | null
}

/**
 * The memory of an agent that one person may see on its page (docs/decisions.md "Agents"):
 * conversation memory only for conversations they are in, task memory only for tasks on a board
 * they can read (the workspace board, or a channel's they are in), and never a value that names
 * another conversation. Membership is read when the viewer is made, per request.
 */
export function visibleMemory(db: Db, viewer: AgentViewer, agentId: string): MemoryEntryView[] {
  const sql = db.$client
  const conv = sql.prepare('SELECT kind, name FROM conversations WHERE id = ?')
  const dmNames = sql.prepare('SELECT m.handle FROM conversation_members cm JOIN members m ON m.id = cm.member_id WHERE cm.conversation_id = ? ORDER BY m.handle LIMIT 4').pluck()
  const task = sql.prepare('SELECT conversation_id AS conversationId, title FROM tasks WHERE id = ?')
  const targets = new Map<string, ScopeTarget>()
  const target = (scope: MemoryScope, scopeId: string): ScopeTarget => {
    const id = `${scope}:${scopeId}`
    let t = targets.get(id)
    if (t) return t
    if (scope === 'conversation') {
      const c = conv.get(scopeId) as { kind: string; name: string | null } | undefined
      const name = !c ? null : c.kind === 'channel' ? `#${c.name}` : (dmNames.all(scopeId) as string[]).map((h) => `@${h}`).join(', ')
      t = { conversationId: scopeId, name }
    } else if (scope === 'task') {
      const row = task.get(scopeId) as { conversationId: string | null; title: string } | undefined
      // A task the index no longer knows names no board; its entry is only its own text.
      t = { conversationId: row?.conversationId ?? null, name: row?.title ?? null }
    } else {
      t = { conversationId: null, name: null }
    }
    targets.set(id, t)
    return t
  }
  const out: MemoryEntryView[] = []
  for (const m of memoryOf(db, agentId)) {
    const t = target(m.scope, m.scopeId)
    if (t.conversationId !== null && !viewer.inConversation(t.conversationId)) continue
    if (!viewer.mayRead({ key: m.key, value: m.value })) continue
    out.push({ scope: m.scope, scopeId: m.scopeId, scopeName: t.name, key: m.key, value: m.value, updatedAt: m.updatedAt })
  }
  return out.sort((a, b) => b.updatedAt - a.updatedAt)
}
