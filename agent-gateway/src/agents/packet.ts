import type { Db } from '@circlechat/db'
import { READ_SCOPE, hasScope, type AgentPacket, type AgentTrigger, type PacketMessage, type InboxEntry } from '@circlechat/protocol'
import { lastRunOf, memoryOf, type AgentRecord } from './store.js'

/** What woke an agent. `byAgent`: caused by another agent's post (bot-loop damping). */
export interface TriggerEvent {
  trigger: AgentTrigger
  conversationId: string | null
  messageId?: string | null
  approvalId?: string
  byAgent?: boolean
}

const RECENT = 20
const THREAD = 50
const MEMORY_KEYS = 50
const MEMORY_VALUE_CHARS = 2000

interface MessageRow {
  id: string; conversation_id: string; parent_id: string | null; author: string; created_at: number; body: string
  mentions: string; attachments: string; reactions: string; deleted: number
}
interface MemberLite { id: string; kind: 'user' | 'agent'; name: string; handle: string; title: string | null; reports_to: string | null }

/**
 * Builds the context packet for one run (AGENT-CONTRACT.md "Packet"): per trigger, not a
 * firehose. Event triggers see their conversation; scheduled and ambient runs see every
 * conversation of the agent with news since its last run. Returns null when a heartbeat has
 * nothing new to look at, so the agent is not called at all.
 */
export function buildPacket(db: Db, rec: AgentRecord, event: TriggerEvent, runId: string): AgentPacket | null {
  const sql = db.$client
  const me = rec.member
  const ws = sql.prepare('SELECT id, name, handle FROM workspaces WHERE id = ?').get(me.workspaceId) as { id: string; name: string; handle: string }
  const people = sql.prepare('SELECT id, kind, name, handle, title, reports_to FROM members WHERE workspace_id = ? AND deactivated = 0').all(me.workspaceId) as MemberLite[]
  const byId = new Map(people.map((p) => [p.id, p]))

  const shape = (r: MessageRow): PacketMessage => {
    const author = byId.get(r.author)
    const reactions = JSON.parse(r.reactions) as Array<{ emoji: string; memberId: string }>
    return {
      id: r.id, memberId: r.author, memberHandle: author?.handle ?? 'unknown', memberName: author?.name ?? 'Unknown',
      bodyMd: r.deleted ? '' : r.body, parentId: r.parent_id, ts: new Date(r.created_at).toISOString(),
      mentions: JSON.parse(r.mentions) as string[],
      reactions: reactions.map((x) => ({ ...x, memberHandle: byId.get(x.memberId)?.handle ?? 'unknown' })),
      attachments: JSON.parse(r.attachments) as PacketMessage['attachments']
    }
  }
  const recent = (conversationId: string, since = 0) => (sql.prepare(`
      SELECT * FROM messages WHERE conversation_id = ? AND parent_id IS NULL AND created_at > ?
      ORDER BY created_at DESC LIMIT ${RECENT}`).all(conversationId, since) as MessageRow[]).reverse().map(shape)
  const entry = (conversationId: string, messages: PacketMessage[]): InboxEntry | null => {
    const c = sql.prepare('SELECT id, kind, name, topic FROM conversations WHERE id = ?').get(conversationId) as { id: string; kind: 'channel' | 'dm'; name: string; topic: string } | undefined
    if (!c) return null
    const memberIds = sql.prepare('SELECT member_id FROM conversation_members WHERE conversation_id = ?').pluck().all(c.id) as string[]
    return { conversationId: c.id, conversationKind: c.kind, conversationName: c.name, conversationTopic: c.topic || null, conversationMembers: memberIds, messages }
  }

  const isHeartbeat = event.trigger === 'scheduled' || event.trigger === 'ambient'
  const inbox: InboxEntry[] = []
  if (!hasScope(rec.agent.scopes, READ_SCOPE)) {
    // Without channels.read the agent hears that something happened, not what was said.
    if (event.trigger === 'scheduled') return null
  } else if (isHeartbeat) {
    // "New" is per conversation: since the agent last saw it, i.e. its last good heartbeat (which
    // sees everything) or its last good run triggered there. Using the agent's last run of any kind
    // lost news: a channel_post coalesced away behind a mention elsewhere, or a failed run, moved
    // the mark past messages the agent never received.
    const lastHeartbeat = sql.prepare(`
      SELECT coalesce(max(started_at), 0) FROM agent_runs WHERE agent_id = ? AND trigger IN ('scheduled', 'ambient') AND status IN ('ok', 'silent')`)
      .pluck().get(rec.agent.id) as number
    const convs = sql.prepare(`
      SELECT DISTINCT m.conversation_id FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id
      WHERE cm.member_id = ? AND m.author != ? AND m.created_at > max(?, coalesce((
        SELECT max(r.started_at) FROM agent_runs r WHERE r.agent_id = ? AND r.conversation_id = m.conversation_id AND r.status IN ('ok', 'silent')), 0))`)
      .pluck().all(me.id, me.id, lastHeartbeat, rec.agent.id) as string[]
    for (const id of convs) {
      const e = entry(id, recent(id))
      if (e) inbox.push(e)
    }
    if (inbox.length === 0 && event.trigger === 'scheduled') return null
  } else if (event.conversationId) {
    const e = entry(event.conversationId, recent(event.conversationId))
    if (e) inbox.push(e)
  }

  let thread: AgentPacket['thread'] = null
  const triggerRow = event.messageId ? (sql.prepare('SELECT * FROM messages WHERE id = ?').get(event.messageId) as MessageRow | undefined) : undefined
  const rootId = triggerRow?.parent_id ?? null
  if (rootId && inbox[0]) {
    const rows = sql.prepare(`SELECT * FROM messages WHERE id = ? OR parent_id = ? ORDER BY created_at LIMIT ${THREAD}`).all(rootId, rootId) as MessageRow[]
    thread = { conversationId: inbox[0].conversationId, conversationKind: inbox[0].conversationKind, conversationName: inbox[0].conversationName, rootMessageId: rootId, messages: rows.map(shape) }
  }

  // Its own approvals and those of conversations it is in: never another conversation's requests.
  const approvals = sql.prepare(`
    SELECT ap.id, ap.scope, ap.action, ap.status, ap.created_at, ap.agent_id, m.handle FROM approvals ap
    JOIN agents a ON a.id = ap.agent_id JOIN members m ON m.id = a.member_id
    WHERE ap.workspace_id = ? AND ap.status = 'pending'
      AND (ap.agent_id = ? OR ap.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE member_id = ?))
    ORDER BY ap.created_at DESC LIMIT 20`).all(me.workspaceId, rec.agent.id, me.id) as Array<{ id: string; scope: string; action: string; status: 'pending'; created_at: number; agent_id: string; handle: string }>
  let approvalResponse: AgentPacket['approvalResponse']
  if (event.approvalId) {
    const ap = sql.prepare('SELECT a.*, m.handle AS decided_handle FROM approvals a LEFT JOIN members m ON m.id = a.decided_by WHERE a.id = ?').get(event.approvalId) as { id: string; scope: string; action: string; status: 'approved' | 'denied'; note: string | null; decided_handle: string | null; payload: string | null } | undefined
    if (ap) approvalResponse = { id: ap.id, scope: ap.scope, action: ap.action, status: ap.status, note: ap.note, decidedByHandle: ap.decided_handle, payload: ap.payload ? JSON.parse(ap.payload) : null }
  }

  const memory: AgentPacket['memory'] = { global: {}, byConversation: {}, byTask: {} }
  const relevant = new Set(inbox.map((e) => e.conversationId))
  let kept = 0
  for (const m of memoryOf(db, rec.agent.id).sort((a, b) => b.updatedAt - a.updatedAt)) {
    if (kept >= MEMORY_KEYS) break
    const value = prune(m.value)
    if (m.scope === 'global') memory.global[m.key] = value
    else if (m.scope === 'conversation' && relevant.has(m.scopeId)) (memory.byConversation[m.scopeId] ??= {})[m.key] = value
    else if (m.scope === 'task') (memory.byTask[m.scopeId] ??= {})[m.key] = value
    else continue
    kept++
  }

  const org = (p: MemberLite) => ({ memberId: p.id, kind: p.kind, name: p.name, handle: p.handle, title: p.title })
  const manager = me.reportsTo ? byId.get(me.reportsTo) : undefined
  const last = lastRunOf(db, rec.agent.id)

  return {
    runId,
    agent: { id: rec.agent.id, memberId: me.id, handle: me.handle, name: me.name, model: rec.agent.model, title: me.title, scopes: rec.agent.scopes, brief: rec.agent.brief },
    workspace: ws,
    trigger: event.trigger,
    triggerConversationId: event.conversationId ?? inbox[0]?.conversationId ?? null,
    triggerMessageId: event.messageId ?? null,
    members: Object.fromEntries(people.map((p) => [p.id, { memberId: p.id, kind: p.kind, name: p.name, handle: p.handle, ...(p.id === me.id ? { isMe: true } : {}) }])),
    inbox,
    thread,
    openApprovals: approvals.map((a) => ({ id: a.id, scope: a.scope, action: a.action, status: a.status, createdAt: new Date(a.created_at).toISOString(), agentHandle: a.handle, mine: a.agent_id === rec.agent.id })),
    ...(approvalResponse ? { approvalResponse } : {}),
    memory,
    reporting: {
      manager: manager ? org(manager) : null,
      directReports: people.filter((p) => p.reports_to === me.id).map(org),
      peers: me.reportsTo ? people.filter((p) => p.reports_to === me.reportsTo && p.id !== me.id).map(org) : []
    },
    myTasks: [],
    lastRun: last ? { runId: last.id, status: last.status, errors: last.errors ?? [] } : null
  }
}

/** Memory values are fed back every run: keep each small. */
function prune(value: unknown): unknown {
  const text = JSON.stringify(value) ?? 'null'
  return text.length <= MEMORY_VALUE_CHARS ? value : `${text.slice(0, MEMORY_VALUE_CHARS)}…`
}
