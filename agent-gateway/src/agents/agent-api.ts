import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { z } from 'zod'
import { and, eq } from 'drizzle-orm'
import { agentRuns, members } from '@circlechat/db'
import { READ_SCOPE, agentUsageSchema, hasScope } from '@circlechat/protocol'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { forbidden, notFound, badRequest } from '../errors.js'
import { openDm } from '../services/conversations.js'
import { getTask, listVisibleTasks } from '../services/tasks.js'
import { memberShape } from '../services/shapes.js'
import { receiveUpload } from '../services/files.js'
import { executeActions, type ExecutionResult } from './executor.js'
import { agentConversations, agentMessages, agentSearch, agentThread } from './agent-reads.js'
import { estimateUsd } from './runner.js'
import { deleteMemory } from './memory.js'
import { agentByMember, memoryOf, type AgentRecord } from './store.js'
import type { AgentRuntime } from './runtime.js'

const scope = z.enum(['global', 'conversation', 'task'])
const searchQuery = z.object({
  q: z.string().trim().min(1).max(500),
  conversationId: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  k: z.coerce.number().int().min(1).max(100).optional()
})

/** One line per applied action for the seed's `trace`: what happened, with the id it made. */
function traceLine({ type, result }: ExecutionResult['applied'][number]): string {
  const r = (result ?? {}) as { approvalId?: string; needsScope?: string; messageId?: string; taskId?: string; commentId?: string }
  if (r.needsScope) return `${type} held for approval ${r.approvalId} (needs ${r.needsScope})`
  if (r.approvalId) return `${type} opened approval ${r.approvalId}`
  const made = r.messageId ?? r.commentId ?? r.taskId
  return made ? `${type} ${made}` : type
}

// The task routes take the human API's camelCase names and map them onto the actions.
const dueAt = z.union([z.number().int().min(0), z.string().min(1)]).nullable()
const taskStatus = z.enum(['backlog', 'in_progress', 'review', 'done', 'blocked'])
const taskListQuery = z.object({ conversationId: z.string().min(1).optional(), assignee: z.string().min(1).optional(), status: z.enum(['backlog', 'in_progress', 'review', 'done']).optional() })
const createTaskBody = z.object({
  conversationId: z.string().min(1).nullish(), title: z.string().min(1), bodyMd: z.string().optional(), status: taskStatus.optional(),
  assignees: z.array(z.string().min(1)).max(20).optional(), labels: z.array(z.string()).max(20).optional(), dueAt: dueAt.optional(), parentId: z.string().min(1).nullish()
})
const patchTaskBody = z.object({
  title: z.string().min(1).optional(), bodyMd: z.string().optional(), status: taskStatus.optional(), progress: z.number().min(0).max(100).optional(),
  dueAt: dueAt.optional(), blocked: z.boolean().optional()
}).refine((p) => Object.values(p).some((v) => v !== undefined), 'Nothing to change: pass at least one field.')

/**
 * Mounted at /api/agent-api: the REST side of the agent contract, bearer token only. Writes go
 * through the same executor as replies, so the same allowlist, membership checks and
 * reply-guard apply (docs/agents.md "Agent REST API").
 */
export function agentApiRoutes(gw: Gateway, _rt: AgentRuntime) {
  const agentOf = (c: Parameters<typeof authOf>[0]): AgentRecord => {
    const auth = authOf(c)
    const rec = auth.via === 'bearer' ? agentByMember(gw.db, auth.member.id) : null
    if (!rec) throw forbidden('agent_only', 'The agent API takes a bot token: Authorization: Bearer cc_…')
    return rec
  }
  const act = async (rec: AgentRecord, actions: unknown[]) => {
    const out = await executeActions(gw, rec, actions, { runId: 'api', conversationId: null })
    // The seed's shape first (a count and lines of text); our per-action lists beside it.
    return {
      ok: out.errors.length === 0, applied: out.applied.length, errors: out.errors.map((e) => `${e.type}: ${e.error}`), trace: out.applied.map(traceLine),
      results: out.applied, errorDetails: out.errors
    }
  }
  const single = async (rec: AgentRecord, action: Record<string, unknown>) => {
    const out = await act(rec, [action])
    if (!out.ok) throw badRequest('action_refused', out.errorDetails[0]!.error)
    return out
  }
  /**
   * A task write through the executor (scope, membership, reply-guard as for a reply), answered
   * with the stored task as the human API shapes it; held for approval: 202 with the approval.
   */
  const taskWrite = async (c: Context, action: Record<string, unknown>) => {
    const out = await single(agentOf(c), action)
    const r = (out.results[0]?.result ?? {}) as { taskId?: string; commentId?: string; approvalId?: string; needsScope?: string }
    if (r.needsScope) return c.json({ ok: true, pending: { approvalId: r.approvalId, needsScope: r.needsScope } }, 202)
    const task = await getTask(gw, authOf(c), r.taskId ?? String(action.task_id))
    if (r.commentId) return c.json({ comment: task.comments?.find((x) => x.id === r.commentId) ?? null }, 201)
    return c.json({ task }, action.type === 'create_task' ? 201 : 200)
  }
  const searchRoute = async (c: Context) => {
    agentOf(c)
    const q = searchQuery.safeParse(c.req.query())
    if (!q.success) throw badRequest('invalid_input', 'q is required (words to find); limit is 1–100.')
    const { k, limit, ...rest } = q.data
    return c.json(await agentSearch(gw, authOf(c), { ...rest, limit: limit ?? k ?? 20 }))
  }

  // Reading conversations needs channels.read (packages/protocol/src/agent/scopes.ts).
  const readScope: MiddlewareHandler = async function readScope(c, next) {
    if (!hasScope(agentOf(c).agent.scopes, READ_SCOPE)) throw forbidden('scope_missing', 'Reading conversations needs the channels.read scope; ask an admin to grant it.')
    await next()
  }

  return new Hono()
    .use(requireAuth())
    .use('/conversations', readScope).use('/messages', readScope).use('/thread', readScope).use('/search', readScope).use('/recall', readScope)
    .use('/tasks', readScope).use('/tasks/*', readScope)
    .get('/me', (c) => {
      const rec = agentOf(c)
      return c.json({ agentId: rec.agent.id, memberId: rec.member.id, workspaceId: rec.member.workspaceId, handle: rec.member.handle })
    })
    .post('/act', validate('json', z.union([z.object({ actions: z.array(z.unknown()).max(20) }), z.object({ action: z.unknown() })])), async (c) => {
      const body = c.req.valid('json')
      return c.json(await act(agentOf(c), 'actions' in body ? body.actions : [body.action]))
    })
    .post('/post_message', validate('json', z.object({ conversationId: z.string(), bodyMd: z.string(), replyTo: z.string().nullish(), attachments: z.array(z.unknown()).optional() })), async (c) => {
      const b = c.req.valid('json')
      return c.json(await single(agentOf(c), { type: 'post_message', conversation_id: b.conversationId, body_md: b.bodyMd, reply_to: b.replyTo ?? undefined, attachments: b.attachments }))
    })
    .post('/react', validate('json', z.object({ messageId: z.string(), emoji: z.string() })), async (c) => {
      const b = c.req.valid('json')
      return c.json(await single(agentOf(c), { type: 'react', message_id: b.messageId, emoji: b.emoji }))
    })
    .post('/start_dm', validate('json', z.object({ otherMemberId: z.string().min(1) })), async (c) => {
      agentOf(c)
      const { conversation } = await openDm(gw, authOf(c), [c.req.valid('json').otherMemberId])
      return c.json({ conversationId: conversation.id })
    })
    .get('/conversations', async (c) => {
      agentOf(c)
      return c.json({ conversations: await agentConversations(gw, authOf(c)) })
    })
    .get('/messages', (c) => {
      agentOf(c)
      const q = z.object({ conversationId: z.string(), parentId: z.string().optional(), before: z.string().optional(), cursor: z.string().min(1).max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).safeParse(c.req.query())
      if (!q.success) throw badRequest('invalid_input', 'conversationId is required; limit is 1–200.')
      const before = q.data.before === undefined ? undefined : /^\d+$/.test(q.data.before) ? Number(q.data.before) : Date.parse(q.data.before)
      if (before !== undefined && Number.isNaN(before)) throw badRequest('invalid_input', 'before is a time: epoch ms or ISO 8601.')
      return c.json(agentMessages(gw, authOf(c), q.data.conversationId, { before, cursor: q.data.cursor, limit: q.data.limit, parentId: q.data.parentId }))
    })
    .get('/thread', (c) => {
      agentOf(c)
      const messageId = c.req.query('messageId')
      if (!messageId) throw badRequest('invalid_input', 'messageId is required.')
      return c.json(agentThread(gw, authOf(c), messageId))
    })
    // `recall` is the seed's name for its knowledge search; here it is the same message search.
    .get('/search', searchRoute)
    .get('/recall', searchRoute)
    .get('/members', (c) => {
      const rec = agentOf(c)
      const rows = gw.db.select().from(members).where(and(eq(members.workspaceId, rec.member.workspaceId), eq(members.deactivated, false))).all()
      const entry = (m: (typeof rows)[number]) => ({ ...memberShape(m), memberId: m.id })
      return c.json({ humans: rows.filter((m) => m.kind === 'user').map(entry), agents: rows.filter((m) => m.kind === 'agent').map(entry) })
    })
    .get('/memory', (c) => {
      const rec = agentOf(c)
      const { scope: s, scopeId, key } = c.req.query()
      const rows = memoryOf(gw.db, rec.agent.id).filter((m) => (!s || m.scope === s) && (scopeId === undefined || m.scopeId === scopeId) && (!key || m.key === key))
      return c.json({ memory: rows.map((m) => ({ scope: m.scope, scopeId: m.scopeId, key: m.key, value: m.value, updatedAt: m.updatedAt })) })
    })
    .post('/memory', validate('json', z.object({ key: z.string().min(1).max(200), value: z.unknown(), scope: scope.optional(), scopeId: z.string().optional() })), async (c) => {
      const b = c.req.valid('json')
      return c.json(await single(agentOf(c), { type: 'set_memory', key: b.key, value: b.value, scope: b.scope, scope_id: b.scopeId }))
    })
    .delete('/memory', async (c) => {
      const rec = agentOf(c)
      // The seed's client sends `{key, scope?, scopeId?}` as a JSON body; ours puts them in the query.
      const body: unknown = c.req.header('content-type')?.includes('json') ? await c.req.json().catch(() => null) : {}
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid_input', 'The body is a JSON object {key, scope?, scopeId?}.')
      const q = z.object({ key: z.string().min(1), scope: scope.default('global'), scopeId: z.string().default('') }).safeParse({ ...c.req.query(), ...body })
      if (!q.success) throw badRequest('invalid_input', 'key is required; scope is global, conversation or task.')
      return c.json({ ok: deleteMemory(gw.db, rec.agent.id, q.data.scope, q.data.scopeId, q.data.key) })
    })
    .post('/runs/:runId/usage', validate('json', agentUsageSchema), (c) => {
      const rec = agentOf(c)
      const usage = c.req.valid('json')
      const cost = usage.costUsd ?? estimateUsd(usage)
      const updated = gw.db.update(agentRuns).set({ usage, costUsd: Math.round(cost * 1_000_000) })
        .where(and(eq(agentRuns.id, c.req.param('runId')), eq(agentRuns.agentId, rec.agent.id))).run()
      if (updated.changes === 0) throw notFound('run_not_found', 'No such run of this agent.')
      return c.json({ ok: true })
    })
    // The same upload as people's (services/files.ts), recorded as the agent's own file.
    .post('/uploads', async (c) => {
      agentOf(c)
      return c.json(await receiveUpload(gw, authOf(c), c.req.raw), 201)
    })
    // Tasks on the boards the agent can see (its conversations' and the workspace's); any other
    // task is the same 404 as a missing one.
    .get('/tasks', validate('query', taskListQuery), async (c) => {
      agentOf(c)
      return c.json({ tasks: await listVisibleTasks(gw, authOf(c), c.req.valid('query')) })
    })
    .post('/tasks', validate('json', createTaskBody), (c) => {
      const b = c.req.valid('json')
      return taskWrite(c, {
        type: 'create_task', conversation_id: b.conversationId, title: b.title, body_md: b.bodyMd, status: b.status,
        assignees: b.assignees, labels: b.labels, due_at: b.dueAt, parent_id: b.parentId
      })
    })
    .get('/tasks/:id', async (c) => {
      agentOf(c)
      return c.json({ task: await getTask(gw, authOf(c), c.req.param('id')) })
    })
    .patch('/tasks/:id', validate('json', patchTaskBody), async (c) => {
      agentOf(c)
      const task = await getTask(gw, authOf(c), c.req.param('id')) // 404 before anything is tried
      const b = c.req.valid('json')
      return taskWrite(c, { type: 'update_task', task_id: task.id, title: b.title, body_md: b.bodyMd, status: b.status, progress: b.progress, due_at: b.dueAt, blocked: b.blocked })
    })
    .post('/tasks/:id/comments', validate('json', z.object({ bodyMd: z.string() })), async (c) => {
      agentOf(c)
      const task = await getTask(gw, authOf(c), c.req.param('id'))
      return taskWrite(c, { type: 'task_comment', task_id: task.id, body_md: c.req.valid('json').bodyMd })
    })
}

