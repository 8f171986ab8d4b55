import { approvals, type Db } from '@circlechat/db'
import { newId, docName, appendMessage, toggleReaction, findMessage, isValidEmoji, type MessageCard } from '@circlechat/model'
import { validateAction, type AgentAction } from '@circlechat/protocol'
import type { Origin } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { resolveMentions } from '../services/messages.js'
import { checkBody } from './reply-guard.js'
import { bodyTooLong, takePostAllowance } from './post-limits.js'
import { setMemory, MAX_MEMORY_VALUE_BYTES } from './memory.js'
import type { AgentRecord } from './store.js'

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
