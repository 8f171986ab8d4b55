import { eq } from 'drizzle-orm'
import { agentRuns, approvals, type Db } from '@circlechat/db'
import { newId, docName, appendMessage, toggleReaction, findMessage, isValidEmoji, type MessageCard } from '@circlechat/model'
import { missingScope, validateAction, type AgentAction } from '@circlechat/protocol'
import type { Origin } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { resolveMentions } from '../services/messages.js'
import { checkBody } from './reply-guard.js'
import { bodyTooLong, takePostAllowance } from './post-limits.js'
import { setMemory, MAX_MEMORY_VALUE_BYTES } from './memory.js'
import { agentById, type AgentRecord } from './store.js'
import type { ApprovalRow } from './approvals.js'

export interface ActionError {
  index: number
  type: string
  error: string
}
export interface ExecutionResult {
  applied: Array<{ index: number; type: string; result?: unknown }>
  errors: ActionError[]
}
export interface RunContext {
  runId: string
  /** The trigger's conversation: default for approvals and leftover prose. */
  conversationId: string | null
  /** Set when a person approved this very action: its scope is then not asked for again. */
  approvalId?: string
}

/** Thrown inside an action to refuse it with a reason the agent reads in `lastRun`. */
class Refused extends Error {}
const refuse = (reason: string): never => {
  throw new Refused(reason)
}

const unavailable: Partial<Record<AgentAction['type'], string>> = {
  create_task: 'boards are not enabled on this server yet',
  update_task: 'boards are not enabled on this server yet',
  assign_task: 'boards are not enabled on this server yet',
  task_comment: 'boards are not enabled on this server yet',
  share_to_task: 'boards are not enabled on this server yet',
  share_files: 'file sharing is not enabled on this server yet'
}

/**
 * Applies an agent's actions as server-authored edits with the agent as author. Each action is
 * validated, checked for membership and workspace, and applied or refused on its own: one bad
 * action never sinks the batch (AGENT-CONTRACT.md "Reply").
 */
export async function executeActions(gw: Gateway, rec: AgentRecord, raw: unknown[], ctx: RunContext): Promise<ExecutionResult> {
  const result: ExecutionResult = { applied: [], errors: [] }
  for (const [index, candidate] of raw.entries()) {
    const type = typeof (candidate as { type?: unknown })?.type === 'string' ? String((candidate as { type: string }).type) : 'unknown'
    const checked = validateAction(candidate)
    if (!checked.ok) {
      result.errors.push({ index, type, error: checked.error })
      continue
    }
    try {
      const out = await apply(gw, rec, checked.action, ctx)
      result.applied.push({ index, type: checked.action.type, ...(out === undefined ? {} : { result: out }) })
    } catch (err) {
      if (!(err instanceof Refused)) console.error('agent action failed', rec.agent.id, checked.action.type, err)
      result.errors.push({ index, type: checked.action.type, error: err instanceof Refused ? err.message : 'internal error applying the action' })
    }
  }
  return result
}

async function apply(gw: Gateway, rec: AgentRecord, action: AgentAction, ctx: RunContext): Promise<unknown> {
  const reason = unavailable[action.type]
  if (reason) refuse(reason)
  const origin: Origin = { source: 'agent', agentId: rec.agent.id, memberId: rec.member.id, runId: ctx.runId }
  const needs = ctx.approvalId ? null : missingScope(rec.agent.scopes, action.type)
  if (needs) return holdForApproval(gw, rec, origin, action, needs, ctx)
  switch (action.type) {
    case 'post_message':
      return post(gw, rec, origin, action.conversation_id, action.body_md, action.reply_to ?? null)
    case 'open_thread': {
      const target = messageInReach(gw.db, rec, action.message_id)
      return post(gw, rec, origin, target.conversation_id, action.body_md, action.message_id)
    }
    case 'react': {
      if (!isValidEmoji(action.emoji)) refuse('emoji must be a single short emoji without spaces')
      const target = messageInReach(gw.db, rec, action.message_id)
      const already = (JSON.parse(target.reactions) as Array<{ emoji: string; memberId: string }>).some((r) => r.emoji === action.emoji && r.memberId === rec.member.id)
      if (!already) await gw.sync.transact(target.doc, origin, (doc) => toggleReaction(doc, action.message_id, rec.member.id, action.emoji))
      return undefined
    }
    case 'request_approval': {
      const conversationId = action.conversation_id ?? ctx.conversationId
      if (conversationId) requireMember(gw.db, rec, conversationId)
      const id = newId('approval')
      gw.db.insert(approvals).values({
        id, workspaceId: rec.member.workspaceId, agentId: rec.agent.id, runId: ctx.runId, conversationId: conversationId ?? null,
        scope: action.scope, action: action.action, payload: action.payload ?? null, status: 'pending', createdAt: Date.now()
      }).run()
      if (conversationId) {
        const card: MessageCard = { kind: 'approval', approvalId: id, status: 'pending' }
        const messageId = await postRaw(gw, rec, origin, conversationId, `Requesting approval (${action.scope}): ${action.action}`, null, card)
        gw.db.$client.prepare('UPDATE approvals SET message_id = ? WHERE id = ?').run(messageId, id)
      }
      return { approvalId: id }
    }
    case 'set_memory': {
      const scope = action.scope ?? 'global'
      let scopeId = ''
      if (scope === 'conversation') {
        scopeId = action.scope_id ?? ctx.conversationId ?? refuse('conversation memory needs scope_id or a trigger conversation')
        requireMember(gw.db, rec, scopeId)
      } else if (scope === 'task') {
        scopeId = action.scope_id ?? refuse('task memory needs scope_id')
      }
      if (Buffer.byteLength(JSON.stringify(action.value ?? null)) > MAX_MEMORY_VALUE_BYTES) refuse(`memory values are limited to ${MAX_MEMORY_VALUE_BYTES} bytes`)
      setMemory(gw.db, rec.agent.id, scope, scopeId, action.key, action.value ?? null)
      return undefined
    }
    default:
      return refuse(`${action.type} is not supported`)
  }
}

/**
 * An action the agent's scopes do not cover waits for a person (the approvals machinery: a
 * card in the action's conversation, an admin or the manager decides) and runs once if approved
 * (executeApproved). What it would touch is checked now, so a request that could never run is
 * refused at once instead of asking anyone; the same pending request is not asked twice.
 */
async function holdForApproval(gw: Gateway, rec: AgentRecord, origin: Origin, action: AgentAction, scope: string, ctx: RunContext) {
  let target: string | null = null
  if (action.type === 'post_message' || action.type === 'share_files') target = action.conversation_id
  else if (action.type === 'react' || action.type === 'open_thread') target = messageInReach(gw.db, rec, action.message_id).conversation_id
  else if (action.type === 'create_task') target = action.conversation_id ?? null
  if (target) requireMember(gw.db, rec, target)
  const conversationId = target ?? (ctx.conversationId && isMember(gw.db, rec, ctx.conversationId) ? ctx.conversationId : null)
  const sql = gw.db.$client
  const pendingJson = JSON.stringify(action)
  const existing = sql.prepare(`SELECT id FROM approvals WHERE agent_id = ? AND status = 'pending' AND pending_action = ?`).pluck().get(rec.agent.id, pendingJson) as string | undefined
  if (existing) return { approvalId: existing, status: 'pending', needsScope: scope }
  const id = newId('approval')
  gw.db.insert(approvals).values({
    id, workspaceId: rec.member.workspaceId, agentId: rec.agent.id, runId: ctx.runId, conversationId,
    scope, action: action.type, payload: action, pendingAction: action, status: 'pending', createdAt: Date.now()
  }).run()
  if (conversationId) {
    const card: MessageCard = { kind: 'approval', approvalId: id, status: 'pending' }
    const messageId = await postRaw(gw, rec, origin, conversationId, `Requesting approval (${scope}): ${action.type}`, null, card)
    sql.prepare('UPDATE approvals SET message_id = ? WHERE id = ?').run(messageId, id)
  }
  return { approvalId: id, status: 'pending', needsScope: scope }
}

/**
 * Runs the action an approval held back, once: the caller has just moved the approval from
 * pending to approved (in one conditional UPDATE, so two deciders cannot both get here). The
 * outcome is appended to the run that asked, under index -1 with the approval's id.
 */
export async function executeApproved(gw: Gateway, ap: ApprovalRow): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  const rec = agentById(gw.db, ap.agentId)
  let outcome: { ok: boolean; result?: unknown; error?: string }
  if (!rec || rec.member.deactivated) outcome = { ok: false, error: 'the agent no longer exists or is deactivated' }
  else {
    const out = await executeActions(gw, rec, [ap.pendingAction], { runId: ap.runId ?? 'approval', conversationId: ap.conversationId, approvalId: ap.id })
    outcome = out.applied[0] ? { ok: true, result: out.applied[0].result } : { ok: false, error: out.errors[0]?.error ?? 'not applied' }
  }
  const run = ap.runId ? gw.db.select().from(agentRuns).where(eq(agentRuns.id, ap.runId)).get() : undefined
  if (run) {
    const type = String((ap.pendingAction as { type?: unknown } | null)?.type ?? 'unknown')
    const set = outcome.ok
      ? { applied: [...(run.applied ?? []), { index: -1, type, approvalId: ap.id, ...(outcome.result === undefined ? {} : { result: outcome.result }) }] }
      : { errors: [...(run.errors ?? []), { index: -1, type, approvalId: ap.id, error: `approved, then failed: ${outcome.error}` }] }
    gw.db.update(agentRuns).set(set).where(eq(agentRuns.id, run.id)).run()
  }
  return outcome
}

interface IndexRow { id: string; conversation_id: string; doc: string; parent_id: string | null; reactions: string; body: string }

/** A message the agent can see: in its workspace and in a conversation it belongs to. */
function messageInReach(db: Db, rec: AgentRecord, messageId: string): IndexRow {
  const row = db.$client.prepare(`
    SELECT m.id, m.conversation_id, m.doc, m.parent_id, m.reactions, m.body FROM messages m
    JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ? AND c.workspace_id = ?`).get(messageId, rec.member.workspaceId) as IndexRow | undefined
  if (!row) return refuse(`message ${messageId} does not exist in this workspace`)
  requireMember(db, rec, row.conversation_id)
  return row
}

function isMember(db: Db, rec: AgentRecord, conversationId: string): boolean {
  return !!db.$client.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(conversationId, rec.member.id)
}

function requireMember(db: Db, rec: AgentRecord, conversationId: string) {
  const conv = db.$client.prepare('SELECT workspace_id FROM conversations WHERE id = ?').pluck().get(conversationId)
  if (conv !== rec.member.workspaceId) refuse(`conversation ${conversationId} does not exist in this workspace`)
  const member = db.$client.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck().get(conversationId, rec.member.id)
  if (!member) refuse(`not a member of conversation ${conversationId}`)
}

/** Posts a text body after the reply-guard; replies go to the root's thread. */
async function post(gw: Gateway, rec: AgentRecord, origin: Origin, conversationId: string, body: string, replyTo: string | null) {
  requireMember(gw.db, rec, conversationId)
  // A person's limits (post-limits.ts): size first, so no rule reads an oversized body.
  const tooLong = bodyTooLong(body)
  if (tooLong) refuse(tooLong)
  const recent = gw.db.$client.prepare('SELECT body FROM messages WHERE conversation_id = ? AND deleted = 0 ORDER BY created_at DESC LIMIT 20').pluck().all(conversationId) as string[]
  const verdict = checkBody(body, { recentBodies: recent })
  if (!verdict.ok) refuse(`reply-guard (${verdict.category}): ${verdict.reason}`)
  let root: string | null = null
  if (replyTo) {
    const target = messageInReach(gw.db, rec, replyTo)
    if (target.conversation_id !== conversationId) refuse('reply_to names a message of another conversation')
    root = target.parent_id ?? target.id
  }
  const overLimit = takePostAllowance(gw, rec.agent.id, conversationId) // only posts that would land count
  if (overLimit) refuse(overLimit)
  const id = await postRaw(gw, rec, origin, conversationId, (verdict as { body: string }).body, root)
  return { messageId: id }
}

async function postRaw(gw: Gateway, rec: AgentRecord, origin: Origin, conversationId: string, body: string, root: string | null, card?: MessageCard) {
  const live = gw.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(conversationId) as number
  const target = root ? docName.thread(root) : docName.conv(conversationId, live)
  const mentions = resolveMentions(gw, rec.member.workspaceId, body)
  return gw.sync.transact(target, origin, (doc) => {
    const id = appendMessage(doc, { author: rec.member.id, body, mentions, ...(root ? { parentId: root } : {}), ...(card ? { card } : {}) })
    return findMessage(doc, id) ? id : refuse('could not post')
  })
}
