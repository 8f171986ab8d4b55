import type { Db } from '@circlechat/db'
import { expandMentions, type Attachment } from '@circlechat/model'
import { READ_SCOPE, hasScope, type AgentPacket, type AgentTrigger, type PacketMessage, type InboxEntry } from '@circlechat/protocol'
import { lastRunOf, memoryOf, type AgentRecord } from './store.js'
import { TaskPacket } from './task-packet.js'
import { withAbsoluteUrls } from '../services/files.js'

/** What woke an agent. `byAgent`: caused by another agent's post (bot-loop damping). */
export interface TriggerEvent {
  trigger: AgentTrigger
  conversationId: string | null
  messageId?: string | null
  approvalId?: string
  byAgent?: boolean
  /** task_assigned and task_comment: the task, and the comment that woke the agent. */
  taskId?: string
  commentId?: string
}

const RECENT = 20
const THREAD = 50
/** The Test button shows the agent its freshest conversations, not all of them. */
const TEST_CONVERSATIONS = 10
const MEMORY_KEYS = 50
const MEMORY_VALUE_CHARS = 2000

interface MessageRow {
  id: string; conversation_id: string; parent_id: string | null; author: string; created_at: number; body: string
  mentions: string; attachments: string; reactions: string; deleted: number
}
interface MemberLite { id: string; kind: 'user' | 'agent' | 'bot'; name: string; handle: string; title: string | null; reports_to: string | null }

/**
 * Builds the context packet for one run (docs/agents.md "Packet"): per trigger, not a
 * firehose. Event triggers see their conversation; scheduled and ambient runs see every
 * conversation of the agent with news since its last run; the Test button sees the agent's
 * freshest conversations. Returns null when a heartbeat has nothing new to look at, so the agent
 * is not called at all.
 */
export function buildPacket(db: Db, rec: AgentRecord, event: TriggerEvent, runId: string, publicBaseUrl: string): AgentPacket | null {
  const sql = db.$client
  const me = rec.member
  const ws = sql.prepare('SELECT id, name, handle FROM workspaces WHERE id = ?').get(me.workspaceId) as { id: string; name: string; handle: string }
  const people = sql.prepare('SELECT id, kind, name, handle, title, reports_to FROM members WHERE workspace_id = ? AND deactivated = 0').all(me.workspaceId) as MemberLite[]
  const byId = new Map(people.map((p) => [p.id, p]))
  const membersStmt = sql.prepare('SELECT member_id FROM conversation_members WHERE conversation_id = ?').pluck()
  const memberCache = new Map<string, string[]>()
  const membersOf = (conversationId: string) => {
    let ids = memberCache.get(conversationId)
    if (!ids) memberCache.set(conversationId, (ids = membersStmt.all(conversationId) as string[]))
    return ids
  }

  const newest = (key: string) => sql.prepare(`
    SELECT * FROM messages WHERE ${key} = ? AND deleted = 0 AND created_at BETWEEN ? AND ? AND id != ?
    ORDER BY created_at DESC, id DESC LIMIT ?`)
  const inConversationStmt = newest('conversation_id')
  const inThreadStmt = newest('parent_id')
  const floorStmt = sql.prepare(`
    SELECT created_at FROM messages WHERE conversation_id = ? AND parent_id IS NULL AND deleted = 0 AND created_at <= ?
    ORDER BY created_at DESC LIMIT 1 OFFSET ${RECENT - 1}`).pluck()

  const shape = (r: MessageRow): PacketMessage => {
    const author = byId.get(r.author)
    const reactions = JSON.parse(r.reactions) as Array<{ emoji: string; memberId: string }>
    // A broadcast reaches the conversation's active members; the stored row keeps the keyword only.
    const reached = membersOf(r.conversation_id).filter((id) => byId.has(id))
    return {
      id: r.id, memberId: r.author, memberHandle: author?.handle ?? 'unknown', memberName: author?.name ?? 'Unknown',
      bodyMd: r.body, parentId: r.parent_id, ts: new Date(r.created_at).toISOString(),
      mentions: expandMentions(JSON.parse(r.mentions) as string[], reached, r.author),
      reactions: reactions.map((x) => ({ ...x, memberHandle: byId.get(x.memberId)?.handle ?? 'unknown' })),
      attachments: withAbsoluteUrls(publicBaseUrl, JSON.parse(r.attachments) as Attachment[])
    }
  }
  // Deleted messages never reach an agent. Cut at `upTo` (the trigger message), so it is the last
  // message even when newer ones arrived while the run waited: those are the next run's news.
  const lastOf = (key: 'conversation_id' | 'parent_id', value: string, limit: number, upTo?: MessageRow): MessageRow[] => {
    const tail = upTo && !upTo.deleted ? [upTo] : []
    const until = upTo?.created_at ?? Number.MAX_SAFE_INTEGER
    // No index orders a conversation's posts and replies together by time, but its 20th newest
    // post is a floor for the scan: 34 → 4 ms on a 90,000-message channel.
    const since = key === 'conversation_id' ? ((floorStmt.get(value, until) as number | undefined) ?? 0) : 0
    const rows = (key === 'conversation_id' ? inConversationStmt : inThreadStmt).all(value, since, until, upTo?.id ?? '', limit - tail.length) as MessageRow[]
    return [...rows.reverse(), ...tail]
  }
  const entry = (conversationId: string, upTo?: MessageRow): InboxEntry | null => {
    const c = sql.prepare('SELECT id, kind, name, topic FROM conversations WHERE id = ?').get(conversationId) as { id: string; kind: 'channel' | 'dm'; name: string; topic: string } | undefined
    if (!c) return null
    return {
      conversationId: c.id, conversationKind: c.kind, conversationName: c.name, conversationTopic: c.topic || null,
      conversationMembers: membersOf(c.id), messages: lastOf('conversation_id', c.id, RECENT, upTo).map(shape)
    }
  }

  const triggerRow = event.messageId ? (sql.prepare('SELECT * FROM messages WHERE id = ?').get(event.messageId) as MessageRow | undefined) : undefined
  const isHeartbeat = event.trigger === 'scheduled' || event.trigger === 'ambient'
  const reads = hasScope(rec.agent.scopes, READ_SCOPE)
  let conversationIds: string[] = []
  if (!reads) {
    // Without channels.read the agent hears that something happened, not what was said.
    if (event.trigger === 'scheduled') return null
  } else if (isHeartbeat) {
    // "New" is per conversation: since the agent last saw it, i.e. its last good heartbeat (which
    // sees everything) or its last good run triggered there, up to that run's trigger message.
    // Using the agent's last run of any kind lost news: a channel_post coalesced away behind a
    // mention elsewhere, or a failed run, moved the mark past messages the agent never received.
    const lastHeartbeat = sql.prepare(`
      SELECT coalesce(max(started_at), 0) FROM agent_runs WHERE agent_id = ? AND trigger IN ('scheduled', 'ambient') AND status IN ('ok', 'silent')`)
      .pluck().get(rec.agent.id) as number
    conversationIds = sql.prepare(`
      SELECT m.conversation_id FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id
      WHERE cm.member_id = ? AND m.author != ? AND m.deleted = 0 AND m.created_at > max(?, coalesce((
        SELECT max(coalesce(t.created_at, r.started_at)) FROM agent_runs r LEFT JOIN messages t ON t.id = r.message_id
        WHERE r.agent_id = ? AND r.conversation_id = m.conversation_id AND r.status IN ('ok', 'silent')), 0))
      GROUP BY m.conversation_id ORDER BY max(m.created_at) DESC`)
      .pluck().all(me.id, me.id, lastHeartbeat, rec.agent.id) as string[]
    if (conversationIds.length === 0 && event.trigger === 'scheduled') return null
  } else if (event.trigger === 'test') {
    conversationIds = sql.prepare(`
      SELECT m.conversation_id FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id
      WHERE cm.member_id = ? AND m.deleted = 0 GROUP BY m.conversation_id ORDER BY max(m.created_at) DESC LIMIT ${TEST_CONVERSATIONS}`)
      .pluck().all(me.id) as string[]
  }
  // The trigger's conversation first (an ambient wake's quiet channel has no news of its own).
  if (event.conversationId && reads) conversationIds = [event.conversationId, ...conversationIds.filter((id) => id !== event.conversationId)]
  const cut = triggerRow?.conversation_id === event.conversationId ? triggerRow : undefined
  const inbox = conversationIds.map((id) => entry(id, id === event.conversationId ? cut : undefined)).filter((e) => e !== null)

  // The trigger message's thread, whether it is a reply or a root that has replies. A deleted
  // root is left out of `messages` but still names the thread.
  let thread: AgentPacket['thread'] = null
  const home = inbox[0]
  if (cut && home?.conversationId === cut.conversation_id) {
    const rootId = cut.parent_id ?? cut.id
    const root = cut.parent_id ? (sql.prepare('SELECT * FROM messages WHERE id = ?').get(rootId) as MessageRow | undefined) : cut
    const replies = lastOf('parent_id', rootId, THREAD - 1, cut.parent_id ? cut : undefined)
    if (replies.length) {
      const rows = root && !root.deleted ? [root, ...replies] : replies
      thread = { conversationId: home.conversationId, conversationKind: home.conversationKind, conversationName: home.conversationName, rootMessageId: rootId, messages: rows.map(shape) }
    }
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
    const ap = sql.prepare('SELECT a.*, m.handle AS decided_handle FROM approvals a LEFT JOIN members m ON m.id = a.decided_by WHERE a.id = ?').get(event.approvalId) as { id: string; scope: string; action: string; status: 'approved' | 'denied'; note: string | null; decided_handle: string | null; payload: string | null; result: string | null } | undefined
    if (ap) approvalResponse = { id: ap.id, scope: ap.scope, action: ap.action, status: ap.status, note: ap.note, decidedByHandle: ap.decided_handle, payload: ap.payload ? JSON.parse(ap.payload) : null, executed: ap.result ? JSON.parse(ap.result) : null }
  }

  // Tasks are board content: like messages, only with channels.read.
  const board = reads ? new TaskPacket(db, me.id, me.workspaceId, (id) => byId.get(id)?.handle ?? 'unknown', publicBaseUrl) : null
  const myTasks = board?.myTasks() ?? []
  const task = event.taskId ? board?.task(event.taskId) ?? null : null
  board?.close()

  const memory: AgentPacket['memory'] = { global: {}, byConversation: {}, byTask: {} }
  const relevant = new Set(inbox.map((e) => e.conversationId))
  const relevantTasks = new Set([...myTasks.map((t) => t.id), ...(task ? [task.id] : [])])
  let kept = 0
  for (const m of memoryOf(db, rec.agent.id).sort((a, b) => b.updatedAt - a.updatedAt)) {
    if (kept >= MEMORY_KEYS) break
    const value = prune(m.value)
    if (m.scope === 'global') memory.global[m.key] = value
    else if (m.scope === 'conversation' && relevant.has(m.scopeId)) (memory.byConversation[m.scopeId] ??= {})[m.key] = value
    else if (m.scope === 'task' && relevantTasks.has(m.scopeId)) (memory.byTask[m.scopeId] ??= {})[m.key] = value
    else continue
    kept++
  }

  const org = (p: MemberLite) => ({ memberId: p.id, kind: p.kind, name: p.name, handle: p.handle, title: p.title })
  const manager = me.reportsTo ? byId.get(me.reportsTo) : undefined
  const last = lastRunOf(db, rec.agent.id)
  const finished = sql.prepare(`
    SELECT status, errors, finished_at FROM agent_runs WHERE agent_id = ? AND finished_at IS NOT NULL ORDER BY created_at DESC LIMIT 1`)
    .get(rec.agent.id) as { status: string; errors: string | null; finished_at: number } | undefined

  return {
    runId,
    agent: { id: rec.agent.id, memberId: me.id, handle: me.handle, name: me.name, model: rec.agent.model, title: me.title, scopes: rec.agent.scopes, brief: rec.agent.brief },
    workspace: ws,
    trigger: event.trigger,
    // Scheduled and test triggers are about no one conversation, however full their inbox.
    triggerConversationId: event.conversationId ?? null,
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
    myTasks,
    ...(task ? { task } : {}),
    ...(event.commentId ? { triggerCommentId: event.commentId } : {}),
    lastRun: last ? { runId: last.id, status: last.status, errors: last.errors ?? [] } : null,
    previousRunFailure: finished?.status === 'error' ? { errorText: errorText(finished.errors), finishedAt: new Date(finished.finished_at).toISOString() } : null
  }
}

/** The run's errors column (`[{type, error}]`) as one line for the agent. */
function errorText(errors: string | null): string {
  const list = errors ? (JSON.parse(errors) as Array<{ error?: unknown }>) : []
  return list.map((e) => String(e.error ?? JSON.stringify(e))).join('; ') || 'the run failed'
}

/** Memory values are fed back every run: keep each small. */
function prune(value: unknown): unknown {
  const text = JSON.stringify(value) ?? 'null'
  return text.length <= MEMORY_VALUE_CHARS ? value : `${text.slice(0, MEMORY_VALUE_CHARS)}…`
}
