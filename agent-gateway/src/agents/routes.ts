import { Hono, type MiddlewareHandler } from 'hono'
import { z } from 'zod'
import { and, eq } from 'drizzle-orm'
import { agents, approvals, members } from '@circlechat/db'
import { setCard } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { requireAdmin } from '../middleware/require-admin.js'
import { validate } from '../middleware/validate.js'
import { badRequest, forbidden, notFound, conflict } from '../errors.js'
import { mirrorMember } from '../services/doc-mirror.js'
import { provisionAgent, requireSafeCallback, rotateToken, requireWorkspaceMember } from './provision.js'
import { agentById, agentByMember, agentsOfWorkspace, runsOf, type AgentRecord, type RunRow } from './store.js'
import { deleteMemory, updateMemory } from './memory.js'
import { visibleMemory } from './memory-view.js'
import { approvalById, canDecide } from './approvals.js'
import { executeApproved } from './executor.js'
import type { AgentRuntime } from './runtime.js'
import { AgentViewer } from './visibility.js'
import { assertNoOrgLoop } from '../services/members.js'
import { Refused } from './refusal.js'
import { requireMember, taskInReach } from './reach.js'
import { recordAudit } from '../services/admin-audit.js'

const handle = z.string().trim().toLowerCase().regex(/^[a-z0-9][a-z0-9._-]*$/, 'Handles use a–z, 0–9, ".", "_" and "-".').min(2).max(40)
const provisionSchema = z.object({
  name: z.string().trim().min(1).max(80),
  handle,
  adapter: z.enum(['webhook', 'socket', 'peer']),
  callbackUrl: z.string().url().max(2000).optional(),
  title: z.string().max(120).optional(),
  brief: z.string().max(2000).optional(),
  model: z.string().max(120).optional(),
  avatar: z.string().max(500).optional(),
  heartbeatIntervalSec: z.number().int().min(5).max(86_400).optional(),
  scopes: z.array(z.string().max(60)).max(50).optional(),
  reportsTo: z.string().max(64).optional(),
  channelIds: z.array(z.string().max(64)).max(200).optional()
})
const registerSchema = z.object({ callbackUrl: provisionSchema.shape.callbackUrl.unwrap() })
const updateSchema = provisionSchema.pick({ name: true, title: true, brief: true, model: true, avatar: true, heartbeatIntervalSec: true, scopes: true, callbackUrl: true })
  .extend({ reportsTo: z.string().max(64).nullable().optional() }).partial()

/**
 * `manage`: the caller is an admin or the agent's manager. Everyone else sees the member side
 * and the status, not how the agent is wired or briefed (callbackUrl, brief, model, scopes, and
 * lastError, which can quote the callback).
 */
export const agentShape = ({ agent, member }: AgentRecord, manage = true) => ({
  id: agent.id, memberId: member.id, name: member.name, handle: member.handle, title: member.title, avatar: member.avatar,
  reportsTo: member.reportsTo, adapter: agent.adapter,
  ...(manage ? { callbackUrl: agent.callbackUrl, brief: agent.brief, model: agent.model, scopes: agent.scopes, lastError: agent.lastError } : {}),
  heartbeatIntervalSec: agent.heartbeatIntervalSec, status: agent.status, lastRunAt: agent.lastRunAt, createdAt: agent.createdAt, canManage: manage
})

export const runShape = (r: RunRow) => ({
  id: r.id, trigger: r.trigger, conversationId: r.conversationId, messageId: r.messageId, status: r.status, attempts: r.attempts,
  packet: r.packet, reply: r.reply, applied: r.applied, errors: r.errors, trace: r.trace, usage: r.usage,
  costUsd: r.costUsd === null ? null : r.costUsd / 1_000_000, startedAt: r.startedAt, finishedAt: r.finishedAt,
  durationMs: r.startedAt && r.finishedAt ? r.finishedAt - r.startedAt : null, createdAt: r.createdAt, redacted: false
})

/**
 * A run as `viewer` may see it: whole for an admin or the manager when nothing in it names a
 * conversation they are not in; otherwise only when and how it ran, with its conversation and
 * message ids only if the viewer is in that conversation (docs/decisions.md "Agents").
 */
export function runView(viewer: AgentViewer, rec: AgentRecord, r: RunRow) {
  const full = runShape(r)
  const { packet, reply, applied, errors, trace, usage } = full
  if (viewer.manages(rec) && viewer.mayRead({ id: r.conversationId, m: r.messageId, packet, reply, applied, errors, trace })) return full
  const inConv = viewer.inConversation(r.conversationId)
  return {
    ...full, conversationId: inConv ? r.conversationId : null, messageId: inConv && viewer.mayRead(r.messageId) ? r.messageId : null,
    packet: null, reply: null, applied: null, errors: null, trace: null, usage: usage === null ? null : { ...pick(usage, ['inputTokens', 'outputTokens', 'costUsd']) }, redacted: true
  }
}

const pick = (o: unknown, keys: string[]) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => keys.includes(k)))

/** Agent and approval pages are for people; an agent reads its own state through /api/agent-api. */
function peopleOnly(): MiddlewareHandler {
  return async function peopleOnly(c, next) {
    if (authOf(c).via !== 'cookie') throw forbidden('people_only', 'Bot tokens cannot read agents or approvals here; an agent reads its own state through /api/agent-api.')
    await next()
  }
}

/** Mounted at /api/agents: provisioning and the agent page (runs, memory, Test button). */
export function agentRoutes(gw: Gateway, rt: AgentRuntime) {
  const inWorkspace = (c: { get(k: 'auth'): unknown }, id: string): AgentRecord => {
    const rec = agentById(gw.db, id)
    if (!rec || rec.member.workspaceId !== authOf(c as never).workspace.id) throw notFound('agent_not_found', 'No such agent.')
    return rec
  }
  return new Hono()
    .use(requireAuth())
    // The guide's registration step for webhook agents, and the one route here for a bot token:
    // only the agent itself (its own token; its agent or member id in the path) sets its callback.
    // Registered before peopleOnly, which guards every route after it.
    .post('/:id/register', async (c) => {
      const auth = authOf(c)
      const self = auth.via === 'bearer' ? agentByMember(gw.db, auth.member.id) : null
      const id = c.req.param('id')
      if (!self || (self.agent.id !== id && self.member.id !== id)) throw forbidden('not_this_agent', 'Only the agent itself registers its callback, with its own bot token.')
      if (self.agent.adapter !== 'webhook') throw badRequest('not_webhook', `This is a ${self.agent.adapter} agent; only webhook agents have a callback URL.`)
      // Read only after the caller is known to be the agent: a stranger learns nothing from a 400.
      const body = registerSchema.safeParse(await c.req.json().catch(() => null))
      if (!body.success) throw badRequest('invalid_input', 'The body is {callbackUrl}: an http or https URL.')
      const { callbackUrl } = body.data
      await requireSafeCallback(gw, callbackUrl)
      // A failure from before it had a callback is no longer the agent's state.
      gw.db.update(agents).set({ callbackUrl, ...(self.agent.status === 'error' ? { status: 'idle', lastError: null } : {}) }).where(eq(agents.id, self.agent.id)).run()
      rt.agentChanged(self.agent.id) // heartbeats start now
      return c.json({ ok: true, agentId: self.agent.id, memberId: self.member.id, callbackUrl })
    })
    .use(peopleOnly())
    .get('/', (c) => {
      const viewer = new AgentViewer(gw.db, authOf(c))
      return c.json({ agents: agentsOfWorkspace(gw.db, authOf(c).workspace.id).map((rec) => agentShape(rec, viewer.manages(rec))) })
    })
    .post('/', requireAdmin(), validate('json', provisionSchema), async (c) => {
      const { record, botToken } = await provisionAgent(gw, rt.vault, authOf(c).workspace.id, c.req.valid('json'))
      rt.agentChanged(record.agent.id)
      return c.json({ id: record.agent.id, memberId: record.member.id, handle: record.member.handle, botToken, agent: agentShape(record) }, 201)
    })
    .get('/:id', (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const viewer = new AgentViewer(gw.db, authOf(c))
      const manage = viewer.manages(rec)
      const costs = gw.db.$client.prepare('SELECT count(*) AS runs, coalesce(sum(cost_micro_usd), 0) AS micro FROM agent_runs WHERE agent_id = ?').get(rec.agent.id) as { runs: number; micro: number }
      // Memory is the agent's working state: managers only, and of it only what the caller may
      // read (memory-view.ts).
      const memory = manage ? visibleMemory(gw.db, viewer, rec.agent.id) : []
      return c.json({
        agent: agentShape(rec, manage),
        connected: rt.hub.isConnected(rec.agent.id),
        runs: runsOf(gw.db, rec.agent.id, 50).map((r) => runView(viewer, rec, r)),
        totals: { runs: costs.runs, costUsd: costs.micro / 1_000_000 },
        memory
      })
    })
    .get('/:id/runs/:runId', (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const run = runsOf(gw.db, rec.agent.id, 1000).find((r) => r.id === c.req.param('runId'))
      if (!run) throw notFound('run_not_found', 'No such run.')
      return c.json({ run: runView(new AgentViewer(gw.db, authOf(c)), rec, run) })
    })
    .patch('/:id', requireAdmin(), validate('json', updateSchema), async (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const body = c.req.valid('json')
      if (body.reportsTo) requireWorkspaceMember(gw, rec.member.workspaceId, body.reportsTo)
      if (body.reportsTo === rec.member.id) throw conflict('invalid_input', 'An agent cannot report to itself.')
      if (body.reportsTo) assertNoOrgLoop(gw.db, rec.member.workspaceId, rec.member.id, body.reportsTo)
      // The same SSRF rule as at provisioning: a PATCH must not smuggle in a private callback.
      if (body.callbackUrl !== undefined) await requireSafeCallback(gw, body.callbackUrl)
      const memberSet = {
        ...(body.name !== undefined ? { name: body.name } : {}), ...(body.title !== undefined ? { title: body.title } : {}),
        ...(body.avatar !== undefined ? { avatar: body.avatar } : {}), ...(body.reportsTo !== undefined ? { reportsTo: body.reportsTo } : {})
      }
      const agentSet = {
        ...(body.brief !== undefined ? { brief: body.brief } : {}), ...(body.model !== undefined ? { model: body.model } : {}),
        ...(body.scopes !== undefined ? { scopes: body.scopes } : {}), ...(body.callbackUrl !== undefined ? { callbackUrl: body.callbackUrl } : {}),
        ...(body.heartbeatIntervalSec !== undefined ? { heartbeatIntervalSec: body.heartbeatIntervalSec } : {})
      }
      // Drizzle throws on an empty SET: a PATCH touching only one table must skip the other.
      if (Object.keys(memberSet).length) gw.db.update(members).set(memberSet).where(eq(members.id, rec.member.id)).run()
      if (body.reportsTo !== undefined && body.reportsTo !== rec.member.reportsTo) {
        recordAudit(gw.db, authOf(c), { action: 'member.reports_to', targetKind: 'member', targetId: rec.member.id, detail: { handle: rec.member.handle, from: rec.member.reportsTo, to: body.reportsTo } })
      }
      if (Object.keys(agentSet).length) gw.db.update(agents).set(agentSet).where(eq(agents.id, rec.agent.id)).run()
      const updated = agentById(gw.db, rec.agent.id)!
      await mirrorMember(gw, updated.member)
      rt.agentChanged(rec.agent.id)
      return c.json({ agent: agentShape(updated) })
    })
    // An admin corrects or forgets what the agent remembered: only entries they can see, so a
    // private channel's memory stays out of reach of an admin outside it, as its runs do.
    // An admin gives the agent a note in a scope they and the agent can both reach: a channel or
    // DM both are in, a task on a board both can read. A new key only; an existing one is edited.
    .post('/:id/memory', requireAdmin(), validate('json', memoryEditSchema), (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const { value, ...ref } = c.req.valid('json')
      requireScopeForNewMemory(gw, new AgentViewer(gw.db, authOf(c)), rec, ref)
      let exists = false
      const done = updateMemory(gw.db, { agentId: rec.agent.id, ...ref }, (old) => ((exists = old !== undefined) ? { error: 'exists' } : { value }))
      if (exists) throw conflict('memory_exists', `${rec.member.name} already remembers “${ref.key}” there; edit that entry instead.`)
      if (!done.ok) throw badRequest('invalid_memory', done.error)
      return c.json({ entry: visibleEntry(gw, c, rec, ref) }, 201)
    })
    .put('/:id/memory', requireAdmin(), validate('json', memoryEditSchema), (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const { value, ...ref } = c.req.valid('json')
      const entry = visibleEntry(gw, c, rec, ref)
      const done = updateMemory(gw.db, { agentId: rec.agent.id, ...ref }, (old) => (old === undefined ? { error: 'That memory entry was deleted meanwhile.' } : { value }))
      if (!done.ok) throw badRequest('invalid_memory', done.error)
      return c.json({ entry: { ...entry, value, updatedAt: Date.now() } })
    })
    .delete('/:id/memory', requireAdmin(), validate('json', memoryRefSchema), (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      const ref = c.req.valid('json')
      visibleEntry(gw, c, rec, ref)
      return c.json({ ok: deleteMemory(gw.db, rec.agent.id, ref.scope, ref.scopeId, ref.key) })
    })
    .post('/:id/rotate-token', requireAdmin(), (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      // Closes the old token's sync sockets and /agent-socket too (provision.ts).
      const botToken = rotateToken(gw, rt.vault, rec.agent.id)
      return c.json({ botToken })
    })
    .post('/:id/test', requireAdmin(), (c) => {
      const rec = inWorkspace(c, c.req.param('id'))
      rt.queue.enqueue(rec.agent.id, { trigger: 'test', conversationId: null })
      return c.json({ ok: true }, 202)
    })
}

const memoryRefSchema = z.object({ scope: z.enum(['global', 'conversation', 'task']), scopeId: z.string().max(64).default(''), key: z.string().min(1).max(200) })
const memoryEditSchema = memoryRefSchema.extend({ value: z.unknown().refine((v) => v !== undefined, 'value is required (any JSON)') })

/**
 * Where an admin may add memory: global (no scope id), a conversation of this workspace the admin
 * is in, or a live task on a board the admin reads; and the agent must reach it too, as for its
 * own writes (reach.ts). A scope the admin cannot see is the same 404 as one that does not exist.
 */
function requireScopeForNewMemory(gw: Gateway, viewer: AgentViewer, rec: AgentRecord, ref: z.infer<typeof memoryRefSchema>) {
  if (ref.scope === 'global') {
    if (ref.scopeId !== '') throw badRequest('invalid_input', 'Global memory has no scopeId.')
    return
  }
  const sql = gw.db.$client
  let seen: boolean
  if (ref.scope === 'conversation') {
    seen = !!sql.prepare('SELECT 1 FROM conversations WHERE id = ? AND workspace_id = ?').get(ref.scopeId, rec.member.workspaceId) && viewer.inConversation(ref.scopeId)
  } else {
    const task = sql.prepare('SELECT conversation_id AS conversationId FROM tasks WHERE id = ? AND workspace_id = ? AND deleted = 0')
      .get(ref.scopeId, rec.member.workspaceId) as { conversationId: string | null } | undefined
    // Admins are never guests, so the workspace board is theirs to read.
    seen = !!task && (task.conversationId === null || viewer.inConversation(task.conversationId))
  }
  if (!seen) throw notFound('scope_not_found', ref.scope === 'task' ? 'No such task, or it is on a board you cannot read.' : 'No such conversation, or you are not in it.')
  try {
    if (ref.scope === 'conversation') requireMember(gw.db, rec, ref.scopeId)
    else taskInReach(gw.db, rec, ref.scopeId)
  } catch (err) {
    if (!(err instanceof Refused)) throw err
    throw badRequest('agent_out_of_scope', ref.scope === 'task'
      ? `${rec.member.name} cannot see that task's board: add it to the channel first.`
      : `${rec.member.name} is not in that conversation: add it first.`)
  }
}

/** The entry, if the caller may see it on the agent's page; otherwise the same 404 as none. */
function visibleEntry(gw: Gateway, c: { get(k: 'auth'): unknown }, rec: AgentRecord, ref: z.infer<typeof memoryRefSchema>) {
  const entry = visibleMemory(gw.db, new AgentViewer(gw.db, authOf(c as never)), rec.agent.id)
    .find((m) => m.scope === ref.scope && m.scopeId === ref.scopeId && m.key === ref.key)
  if (!entry) throw notFound('memory_not_found', 'No such memory entry, or you cannot see it.')
  return entry
}

const decideSchema = z.object({ decision: z.enum(['approve', 'deny']), note: z.string().max(2000).optional() })

/** Mounted at /api/approvals: the Approvals page and the card's buttons. */
export function approvalRoutes(gw: Gateway, rt: AgentRuntime) {
  return new Hono()
    .use(requireAuth(), peopleOnly())
    .get('/', (c) => {
      const auth = authOf(c)
      const status = c.req.query('status')
      if (status !== undefined && !['pending', 'approved', 'denied'].includes(status)) throw badRequest('invalid_input', 'status is pending, approved or denied.')
      // Only approvals in the caller's conversations, or ones the caller may decide (an admin, the
      // agent's manager: canDecide). Membership is read here, per request.
      const rows = gw.db.$client.prepare(`
        SELECT ap.*, m.handle AS agent_handle, m.name AS agent_name, d.handle AS decided_by_handle, m.reports_to AS manager
        FROM approvals ap JOIN agents a ON a.id = ap.agent_id JOIN members m ON m.id = a.member_id LEFT JOIN members d ON d.id = ap.decided_by
        WHERE ap.workspace_id = @ws ${status ? 'AND ap.status = @status' : ''}
          AND (@admin = 1 OR m.reports_to = @me OR ap.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE member_id = @me))
        ORDER BY ap.created_at DESC LIMIT 200`)
        .all({ ws: auth.workspace.id, me: auth.member.id, admin: auth.member.role === 'admin' ? 1 : 0, ...(status ? { status } : {}) }) as Array<Record<string, unknown>>
      const viewer = new AgentViewer(gw.db, auth)
      return c.json({
        approvals: rows.map((r) => {
          // A decider outside the conversation sees what is asked, not where: no conversation or
          // message id, and no payload that names a conversation they are not in.
          const inConv = viewer.inConversation(r.conversation_id as string | null)
          const payload = r.payload ? JSON.parse(String(r.payload)) as unknown : null
          const showPayload = viewer.mayRead(payload)
          return {
            id: r.id, agentId: r.agent_id, agentHandle: r.agent_handle, agentName: r.agent_name, conversationId: inConv ? r.conversation_id : null,
            messageId: inConv ? r.message_id : null, scope: r.scope, action: r.action, payload: showPayload ? payload : null,
            status: r.status, note: r.note, decidedByHandle: r.decided_by_handle, decidedAt: r.decided_at, createdAt: r.created_at,
            canDecide: r.status === 'pending' && (auth.member.role === 'admin' || r.manager === auth.member.id),
            redacted: !showPayload || (!!r.conversation_id && !inConv)
          }
        })
      })
    })
    .post('/:id/decide', validate('json', decideSchema), async (c) => {
      const auth = authOf(c)
      const ap = approvalById(gw.db, c.req.param('id'))
      if (!ap || ap.workspaceId !== auth.workspace.id) throw notFound('approval_not_found', 'No such approval.')
      if (!canDecide(gw.db, ap, auth.member)) throw forbidden('not_approver', 'Only an admin or the agent\'s manager can decide this.')
      if (ap.status !== 'pending') throw conflict('already_decided', `This request was already ${ap.status}.`)
      const { decision, note } = c.req.valid('json')
      const status = decision === 'approve' ? 'approved' : 'denied'
      // Conditional on still pending: of two deciders racing, one wins and a held action runs once.
      const won = gw.db.update(approvals).set({ status, note: note ?? null, decidedBy: auth.member.id, decidedAt: Date.now() })
        .where(and(eq(approvals.id, ap.id), eq(approvals.status, 'pending'))).run()
      if (won.changes === 0) throw conflict('already_decided', 'This request was just decided by someone else.')
      const executed = status === 'approved' && ap.pendingAction != null ? await executeApproved(gw, ap) : undefined
      const doc = ap.messageId ? gw.db.$client.prepare('SELECT doc FROM messages WHERE id = ?').pluck().get(ap.messageId) as string | undefined : undefined
      if (doc) await gw.sync.transact(doc, { source: 'server', reason: 'approval decided' }, (d) => setCard(d, ap.messageId!, { kind: 'approval', approvalId: ap.id, status }))
      rt.queue.enqueue(ap.agentId, { trigger: 'approval_response', conversationId: ap.conversationId, approvalId: ap.id })
      // The outcome (a message id, an error naming a conversation) is on the run; the decider may
      // not be in that conversation, so only whether it ran comes back here.
      const shown = executed && { ok: executed.ok, ...(executed.error && new AgentViewer(gw.db, auth).mayRead(executed.error) ? { error: executed.error } : {}) }
      return c.json({ ok: true, status, ...(shown ? { executed: shown } : {}) })
    })
}
