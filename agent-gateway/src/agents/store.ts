import { and, desc, eq } from 'drizzle-orm'
import { agents, agentRuns, agentMemory, members, type Db } from '@circlechat/db'

export type AgentRow = typeof agents.$inferSelect
export type RunRow = typeof agentRuns.$inferSelect
export type AgentMemberRow = typeof members.$inferSelect

/** An agent with its member row: the member is what chat sees, the agent row is the runtime. */
export interface AgentRecord {
  agent: AgentRow
  member: AgentMemberRow
}

export function agentById(db: Db, id: string): AgentRecord | null {
  const row = db.select().from(agents).innerJoin(members, eq(agents.memberId, members.id)).where(eq(agents.id, id)).get()
  return row ? { agent: row.agents, member: row.members } : null
}

export function agentByMember(db: Db, memberId: string): AgentRecord | null {
  const row = db.select().from(agents).innerJoin(members, eq(agents.memberId, members.id)).where(eq(agents.memberId, memberId)).get()
  return row ? { agent: row.agents, member: row.members } : null
}

export function agentByTokenHash(db: Db, tokenHash: string): AgentRecord | null {
  const row = db.select().from(agents).innerJoin(members, eq(agents.memberId, members.id)).where(eq(agents.tokenHash, tokenHash)).get()
  return row && !row.members.deactivated ? { agent: row.agents, member: row.members } : null
}

export function agentsOfWorkspace(db: Db, workspaceId: string): AgentRecord[] {
  return db.select().from(agents).innerJoin(members, eq(agents.memberId, members.id)).where(eq(agents.workspaceId, workspaceId)).all()
    .map((r) => ({ agent: r.agents, member: r.members }))
}

/** Agents that are members of a conversation (the ones its messages may wake). */
export function agentsInConversation(db: Db, conversationId: string): AgentRecord[] {
  const rows = db.$client.prepare(`
    SELECT a.id FROM agents a JOIN conversation_members cm ON cm.member_id = a.member_id
    JOIN members m ON m.id = a.member_id WHERE cm.conversation_id = ? AND m.deactivated = 0`).pluck().all(conversationId) as string[]
  return rows.map((id) => agentById(db, id)!).filter(Boolean)
}

export function lastRunOf(db: Db, agentId: string): RunRow | undefined {
  return db.select().from(agentRuns).where(and(eq(agentRuns.agentId, agentId))).orderBy(desc(agentRuns.createdAt)).limit(1).get()
}

export function runsOf(db: Db, agentId: string, limit = 50): RunRow[] {
  return db.select().from(agentRuns).where(eq(agentRuns.agentId, agentId)).orderBy(desc(agentRuns.createdAt)).limit(limit).all()
}

export function memoryOf(db: Db, agentId: string) {
  return db.select().from(agentMemory).where(eq(agentMemory.agentId, agentId)).all()
}
