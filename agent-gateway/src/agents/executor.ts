import { createHash } from 'node:crypto'
import { and, eq, isNotNull, isNull, DrizzleQueryError } from 'drizzle-orm'
import { agentRuns, approvals, type Db } from '@circlechat/db'
import { newId, docName, appendMessage, toggleReaction, findMessage, isValidEmoji, MAX_ATTACHMENTS, type Attachment, type MessageCard } from '@circlechat/model'
import { actionAliases, agentActionTypes, missingScope, validateAction, type AgentAction } from '@circlechat/protocol'
import type { Origin } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { resolveMentions } from '../services/messages.js'
import { attachmentsInputSchema, resolveAttachments } from '../services/files.js'
import { ApiError } from '../errors.js'
import { checkBody } from './reply-guard.js'
import { bodyTooLong, takePostAllowance } from './post-limits.js'
import { deleteMemory, updateMemory, type MemoryChange, type MemoryRef } from './memory.js'
import { findNearDuplicate } from './near-duplicate.js'
import { agentById, type AgentRecord } from './store.js'
import type { ApprovalRow } from './approvals.js'
import { Refused, refuse } from './refusal.js'
import { isMember, requireMember, requireWritable, taskInReach } from './reach.js'
import { applyTaskAction, isTaskAction } from './task-actions.js'
import { shareFiles } from './share-files.js'

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
  /** The trigger's task (task_assigned, task_comment): default for task memory. */
  taskId?: string | null
}

/** JSON of a value an agent sent; JSON.parse takes nesting that JSON.stringify overflows on. */
const jsonOf = (value: unknown, replacer?: (key: string, v: unknown) => unknown): string => {
  try {
    return JSON.stringify(value ?? null, replacer)
  } catch {
    return refuse('value is nested too deeply')
  }
}

/**
 * Applies an agent's actions as server-authored edits with the agent as author. Each action is
 * validated, checked for membership and workspace, and applied or refused on its own: one bad
 * action never sinks the batch (docs/agents.md "Reply").
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

/** How much of a call_tool's arguments the run keeps: enough to read what was asked. */
const MAX_RECORDED_TOOL_ARGS = 2000
/** An agent's own approval payload (a held action's is bounded by the action's own limits). */
const MAX_APPROVAL_PAYLOAD_BYTES = 16 * 1024
/** A request identical or near-identical to one denied this recently is refused, not asked again. */
const DENIED_COOLDOWN_MS = 60 * 60_000

async function apply(gw: Gateway, rec: AgentRecord, action: AgentAction, ctx: RunContext): Promise<unknown> {
  // Checked whole, before any approval: posting the text without its files would be half a post.
  const files = action.type === 'post_message' || action.type === 'open_thread' ? agentAttachments(gw, rec, action.attachments) : []
  const origin: Origin = { source: 'agent', agentId: rec.agent.id, memberId: rec.member.id, runId: ctx.runId }
  const needs = ctx.approvalId ? null : missingScope(rec.agent.scopes, action.type)
  if (needs) return holdForApproval(gw, rec, origin, action, needs, ctx)
  if (isTaskAction(action)) return applyTaskAction(gw, rec, origin, action, ctx)
  switch (action.type) {
    case 'post_message':
      return post(gw, rec, origin, action.conversation_id, action.body_md, action.reply_to ?? null, files)
    case 'open_thread': {
      const target = messageInReach(gw.db, rec, action.message_id)
      return post(gw, rec, origin, target.conversation_id, action.body_md, action.message_id, files)
    }
    case 'share_files': {
      // Refused before anything is fetched when the post could never land.
      checkReach(gw.db, rec, action)
      const shared = await shareFiles(gw, rec, action.files)
      return post(gw, rec, origin, action.conversation_id, action.body_md ?? '', action.reply_to ?? null, shared)
    }
    case 'react': {
      if (!isValidEmoji(action.emoji)) refuse('emoji must be a single short emoji without spaces')
      const target = messageInReach(gw.db, rec, action.message_id)
      requireWritable(gw.db, target.conversation_id)
      const already = (JSON.parse(target.reactions) as Array<{ emoji: string; memberId: string }>).some((r) => r.emoji === action.emoji && r.memberId === rec.member.id)
      if (!already) await gw.sync.transact(target.doc, origin, (doc) => toggleReaction(doc, action.message_id, rec.member.id, action.emoji))
      return undefined
    }
    case 'request_approval': {
      const held = heldPayload(action.payload)
      const target = held ? checkReach(gw.db, rec, held) : null
      const conversationId = action.conversation_id ?? target ?? ctx.conversationId
      if (conversationId) requireMember(gw.db, rec, conversationId)
      const payload = action.payload ?? null
      if (!held && Buffer.byteLength(jsonOf(payload)) > MAX_APPROVAL_PAYLOAD_BYTES) refuse(`approval payloads are limited to ${MAX_APPROVAL_PAYLOAD_BYTES} bytes`)
      const ask = { scope: action.scope, action: action.action, payload, conversationId: conversationId ?? null }
      refuseRepeat(gw.db, rec, ask)
      // Says on the card what approving runs, so a decider is never surprised by it.
      const text = `Requesting approval (${action.scope}): ${action.action}${held ? ` (approving runs ${held.type})` : ''}`
      const { id, existing } = await recordApproval(gw, rec, origin, ctx, { ...ask, pendingAction: held }, text)
      if (existing) refuse(`duplicate request: the same as ${stillPending(id)}`)
      return { approvalId: id }
    }
    case 'set_memory':
    case 'memory_rethink': {
      const value = action.value ?? null
      jsonOf(value)
      writeMemory(gw.db, memoryRef(gw.db, rec, action, ctx), () => ({ value }))
      return undefined
    }
    case 'memory_append': {
      // Appends to text; absent or null starts it; anything else is structured and never coerced.
      writeMemory(gw.db, memoryRef(gw.db, rec, action, ctx), (old) => {
        if (old === undefined || old === null || old === '') return { value: action.text }
        if (typeof old === 'string') return { value: `${old}\n${action.text}` }
        return { error: `memory ${action.key} holds ${Array.isArray(old) ? 'a list' : typeof old === 'object' ? 'an object' : `a ${typeof old}`}, not text: memory_append adds to text only; memory_rethink replaces it` }
      })
      return undefined
    }
    case 'delete_memory': {
      const ref = memoryRef(gw.db, rec, action, ctx)
      return { deleted: deleteMemory(gw.db, ref.agentId, ref.scope, ref.scopeId, ref.key) }
    }
    case 'call_tool': {
      const args = jsonOf(action.args)
      return { name: action.name, args: args.length > MAX_RECORDED_TOOL_ARGS ? `${args.slice(0, MAX_RECORDED_TOOL_ARGS)}…` : args, executed: false }
    }
  }
}

/**
 * An action the agent's scopes do not cover waits for a person (the approvals machinery: a
 * card in the action's conversation, an admin or the manager decides) and runs once if approved
 * (executeApproved). What it would touch is checked now, so a request that could never run is
 * refused at once instead of asking anyone; the same pending request is not asked twice, and
 * one a person denied within the hour is not asked again.
 */
async function holdForApproval(gw: Gateway, rec: AgentRecord, origin: Origin, action: AgentAction, scope: string, ctx: RunContext) {
  const target = checkReach(gw.db, rec, action)
  const conversationId = target ?? (ctx.conversationId && isMember(gw.db, rec, ctx.conversationId) ? ctx.conversationId : null)
  const existing = gw.db.$client.prepare(`SELECT id FROM approvals WHERE agent_id = ? AND status = 'pending' AND pending_action = ?`).pluck().get(rec.agent.id, JSON.stringify(action)) as string | undefined
  if (existing) return { approvalId: existing, status: 'pending', needsScope: scope }
  const ask = { scope, action: action.type, payload: action, conversationId }
  refuseRepeat(gw.db, rec, ask)
  const { id } = await recordApproval(gw, rec, origin, ctx, { ...ask, pendingAction: action }, `Requesting approval (${scope}): ${action.type}`)
  return { approvalId: id, status: 'pending', needsScope: scope }
}

interface Ask { scope: string; action: string; payload: unknown; conversationId: string | null }

const stillPending = (id: string) => `approval ${id}, still waiting for a decision`

/** Sorts object keys, so payloads that differ only in key order are one request. */
const sortedKeys = (_key: string, v: unknown): unknown =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v

function fingerprintOf(agentId: string, ask: Ask): string {
  return createHash('sha256').update(JSON.stringify([agentId, ask.scope, ask.action, jsonOf(ask.payload, sortedKeys), ask.conversationId])).digest('hex')
}

function isUniqueViolation(err: unknown): boolean {
  const cause = err instanceof DrizzleQueryError ? err.cause : err
  return (cause as { code?: unknown } | undefined)?.code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/**
 * Inserts a pending approval and, when it has a conversation, its card there. The unique index on
 * (agent, fingerprint) of pending rows is the guard against the same request twice: refuseRepeat
 * reads before this writes, so another gateway process on the database can insert in between.
 * Then no row and no card are added, and the pending one is returned as `existing`.
 */
async function recordApproval(gw: Gateway, rec: AgentRecord, origin: Origin, ctx: RunContext, ask: Ask & { pendingAction: AgentAction | null }, text: string): Promise<{ id: string; existing: boolean }> {
  const id = newId('approval')
  const fingerprint = fingerprintOf(rec.agent.id, ask)
  try {
    gw.db.insert(approvals).values({
      id, workspaceId: rec.member.workspaceId, agentId: rec.agent.id, runId: ctx.runId, conversationId: ask.conversationId,
      scope: ask.scope, action: ask.action, payload: ask.payload, pendingAction: ask.pendingAction, status: 'pending', fingerprint, createdAt: Date.now()
    }).run()
  } catch (err) {
    const existing = isUniqueViolation(err)
      ? gw.db.$client.prepare(`SELECT id FROM approvals WHERE agent_id = ? AND fingerprint = ? AND status = 'pending'`).pluck().get(rec.agent.id, fingerprint) as string | undefined
      : undefined
    // Another failure, or the pending one was decided since: an internal error the agent may retry.
    if (!existing) throw err
    return { id: existing, existing: true }
  }
  if (ask.conversationId) {
    const card: MessageCard = { kind: 'approval', approvalId: id, status: 'pending' }
    const messageId = await postRaw(gw, rec, origin, ask.conversationId, text, null, card)
    gw.db.$client.prepare('UPDATE approvals SET message_id = ? WHERE id = ?').run(messageId, id)
  }
  return { id, existing: false }
}

/**
 * Checks what an action would touch (membership, and a body a post could never carry) and
 * returns the conversation it lands in, if it names one.
 */
function checkReach(db: Db, rec: AgentRecord, action: AgentAction): string | null {
  let target: string | null = null
  if (action.type === 'post_message' || action.type === 'share_files') target = action.conversation_id
  else if (action.type === 'react' || action.type === 'open_thread') target = messageInReach(db, rec, action.message_id).conversation_id
  else if (action.type === 'create_task') target = action.conversation_id ?? null
  else if (isTaskAction(action)) target = taskInReach(db, rec, action.task_id).conversationId
  if (target) requireMember(db, rec, target)
  const tooLong = 'body_md' in action && action.body_md !== undefined ? bodyTooLong(action.body_md) : null
  if (tooLong) refuse(tooLong)
  return target
}

/**
 * A request_approval payload that is one of our actions is what approving runs; anything else
 * is the agent's own data and runs nothing. An action-shaped payload that does not validate is
 * refused now rather than approved to no effect.
 */
function heldPayload(payload: unknown): AgentAction | null {
  const type = (payload as { type?: unknown } | null)?.type
  if (typeof type !== 'string' || !(agentActionTypes.includes(type as AgentAction['type']) || Object.hasOwn(actionAliases, type))) return null
  const checked = validateAction(payload)
  if (!checked.ok) return refuse(`payload: ${checked.error}`)
  if (checked.action.type === 'request_approval') refuse('payload: an approval cannot hold another request_approval')
  return checked.action
}

/**
 * Refuses a request identical or near-identical (near-duplicate.ts, over its action and payload
 * text) to a pending one of the same scope, or to one denied within the hour: an agent that
 * asks again at once is looping, and a decider should not have to say no twice.
 */
function refuseRepeat(db: Db, rec: AgentRecord, ask: Ask) {
  const rows = db.$client.prepare(`
    SELECT id, action, payload, conversation_id, status, note, decided_at FROM approvals
    WHERE agent_id = ? AND scope = ? AND (status = 'pending' OR (status = 'denied' AND decided_at > ?))
    ORDER BY created_at DESC LIMIT 50`).all(rec.agent.id, ask.scope, Date.now() - DENIED_COOLDOWN_MS) as Array<{ id: string; action: string; payload: string | null; conversation_id: string | null; status: 'pending' | 'denied'; note: string | null; decided_at: number | null }>
  if (rows.length === 0) return
  const payload = JSON.stringify(ask.payload ?? null)
  const what = (r: (typeof rows)[number]) => r.status === 'pending'
    ? stillPending(r.id)
    : `approval ${r.id}, denied ${Math.max(1, Math.round((Date.now() - r.decided_at!) / 60_000))} min ago${r.note ? ` ("${r.note.slice(0, 200)}")` : ''}; do not ask again within the hour`
  const same = rows.find((r) => r.action === ask.action && r.conversation_id === ask.conversationId && (r.payload ?? 'null') === payload)
  if (same) refuse(`duplicate request: the same as ${what(same)}`)
  const near = findNearDuplicate(`${ask.action} ${payload}`, rows.map((r) => `${r.action} ${r.payload ?? 'null'}`))
  if (near) refuse(`near-duplicate request (${Math.round(near.similarity * 100)}% alike): nearly the same as ${what(rows[near.index]!)}`)
}

/**
 * Runs the action an approval held back, at most once: the caller has just moved the approval
 * from pending to approved (one conditional UPDATE, so two deciders cannot both get here), and
 * claiming executed_at is a second conditional UPDATE, so no other caller or process runs it
 * again. A crash between the claim and the result leaves it unrun rather than run twice. The
 * outcome goes on the approval (`result`, for the approval_response packet) and is appended to
 * the run that asked, under index -1 with the approval's id.
 */
export async function executeApproved(gw: Gateway, ap: ApprovalRow): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  const claimed = gw.db.update(approvals).set({ executedAt: Date.now() })
    .where(and(eq(approvals.id, ap.id), eq(approvals.status, 'approved'), isNotNull(approvals.pendingAction), isNull(approvals.executedAt))).run()
  if (claimed.changes === 0) return { ok: false, error: 'this approval was already executed, or is not approved' }
  const rec = agentById(gw.db, ap.agentId)
  let outcome: { ok: boolean; result?: unknown; error?: string }
  if (!rec || rec.member.deactivated) outcome = { ok: false, error: 'the agent no longer exists or is deactivated' }
  else {
    const out = await executeActions(gw, rec, [ap.pendingAction], { runId: ap.runId ?? 'approval', conversationId: ap.conversationId, approvalId: ap.id })
    outcome = out.applied[0] ? { ok: true, ...(out.applied[0].result === undefined ? {} : { result: out.applied[0].result }) } : { ok: false, error: out.errors[0]?.error ?? 'not applied' }
  }
  gw.db.update(approvals).set({ result: outcome }).where(eq(approvals.id, ap.id)).run()
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

/** Where a memory action writes: its scope, checked like any other target. */
function memoryRef(db: Db, rec: AgentRecord, action: { key: string; scope?: MemoryRef['scope']; scope_id?: string }, ctx: RunContext): MemoryRef {
  const scope = action.scope ?? 'global'
  let scopeId = ''
  if (scope === 'conversation') {
    scopeId = action.scope_id ?? ctx.conversationId ?? refuse('conversation memory needs scope_id or a trigger conversation')
    requireMember(db, rec, scopeId)
  } else if (scope === 'task') {
    scopeId = action.scope_id ?? ctx.taskId ?? refuse('task memory needs scope_id (a task id) or a task trigger')
    taskInReach(db, rec, scopeId)
  }
  return { agentId: rec.agent.id, scope, scopeId, key: action.key }
}

function writeMemory(db: Db, ref: MemoryRef, change: MemoryChange) {
  const done = updateMemory(db, ref, change)
  if (!done.ok) refuse(done.error)
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

/**
 * `attachments` as the seed's agents send them (`[{key, name, contentType, size}]` from
 * POST /api/agent-api/uploads): only the agent's own uploads, as for people (services/files.ts).
 */
function agentAttachments(gw: Gateway, rec: AgentRecord, input: unknown[] | undefined): Attachment[] {
  if (!input?.length) return []
  const parsed = attachmentsInputSchema.safeParse(input)
  if (!parsed.success) refuse(`attachments is a list of at most ${MAX_ATTACHMENTS} {key} objects from POST /api/agent-api/uploads; nothing was posted`)
  try {
    return resolveAttachments(gw, { memberId: rec.member.id, workspaceId: rec.member.workspaceId }, parsed.data)
  } catch (err) {
    if (err instanceof ApiError) refuse(`${err.message} Nothing was posted.`)
    throw err
  }
}

/** Posts a text body (and its files) after the reply-guard; replies go to the root's thread. */
async function post(gw: Gateway, rec: AgentRecord, origin: Origin, conversationId: string, body: string, replyTo: string | null, attachments: Attachment[] = []) {
  requireMember(gw.db, rec, conversationId)
  requireWritable(gw.db, conversationId)
  // A person's limits (post-limits.ts): size first, so no rule reads an oversized body.
  const tooLong = bodyTooLong(body)
  if (tooLong) refuse(tooLong)
  const recent = gw.db.$client.prepare('SELECT body FROM messages WHERE conversation_id = ? AND deleted = 0 ORDER BY created_at DESC LIMIT 20').pluck().all(conversationId) as string[]
  // Files alone need no text (share_files without body_md); any text passes the guard.
  const verdict = body === '' && attachments.length > 0 ? { ok: true as const, body } : checkBody(body, { recentBodies: recent })
  if (!verdict.ok) refuse(`reply-guard (${verdict.category}): ${verdict.reason}`)
  let root: string | null = null
  if (replyTo) {
    const target = messageInReach(gw.db, rec, replyTo)
    if (target.conversation_id !== conversationId) refuse('reply_to names a message of another conversation')
    root = target.parent_id ?? target.id
  }
  const overLimit = await takePostAllowance(gw, rec.agent.id, conversationId) // only posts that would land count
  if (overLimit) refuse(overLimit)
  const id = await postRaw(gw, rec, origin, conversationId, (verdict as { body: string }).body, root, undefined, attachments)
  return { messageId: id }
}

async function postRaw(gw: Gateway, rec: AgentRecord, origin: Origin, conversationId: string, body: string, root: string | null, card?: MessageCard, attachments: Attachment[] = []) {
  const live = gw.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(conversationId) as number
  const target = root ? docName.thread(root) : docName.conv(conversationId, live)
  const mentions = resolveMentions(gw, rec.member.workspaceId, body)
  return gw.sync.transact(target, origin, (doc) => {
    const id = appendMessage(doc, { author: rec.member.id, body, mentions, attachments, ...(root ? { parentId: root } : {}), ...(card ? { card } : {}) })
    return findMessage(doc, id) ? id : refuse('could not post')
  })
}
