import { Hono, type MiddlewareHandler } from 'hono'
import { z } from 'zod'
import { and, eq } from 'drizzle-orm'
import { agentRuns, members } from '@circlechat/db'
import { READ_SCOPE, agentUsageSchema, hasScope } from '@circlechat/protocol'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { forbidden, notFound, ApiError, badRequest } from '../errors.js'
import { listMine, openDm } from '../services/conversations.js'
import { listMessages } from '../services/messages.js'
import { memberShape } from '../services/shapes.js'
import { executeActions } from './executor.js'
import { estimateUsd } from './runner.js'
import { deleteMemory } from './memory.js'
import { agentByMember, memoryOf, type AgentRecord } from './store.js'
import type { AgentRuntime } from './runtime.js'

const notEnabled = (what: string) => new ApiError(501, 'not_enabled', `${what} is not enabled on this server yet.`)
const scope = z.enum(['global', 'conversation', 'task'])

/**
 * Mounted at /api/agent-api: the REST side of the agent contract, bearer token only. Writes go
 * through the same executor as replies, so the same allowlist, membership checks and
 * reply-guard apply (AGENT-CONTRACT.md "Agent REST API").
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
    return { ok: out.errors.length === 0, applied: out.applied, errors: out.errors, trace: [] as string[] }
  }
  const single = async (rec: AgentRecord, action: Record<string, unknown>) => {
    const out = await act(rec, [action])
    if (!out.ok) throw badRequest('action_refused', String((out.errors[0] as { error: string }).error))
    return out
  }

  // Reading conversations needs channels.read (packages/protocol/src/agent/scopes.ts).
  const readScope: MiddlewareHandler = async function readScope(c, next) {
    if (!hasScope(agentOf(c).agent.scopes, READ_SCOPE)) throw forbidden('scope_missing', 'Reading conversations needs the channels.read scope; ask an admin to grant it.')
    await next()
  }

  return new Hono()
    .use(requireAuth())
    .use('/conversations', readScope).use('/messages', readScope).use('/thread', readScope).use('/search', readScope)
    .get('/me', (c) => {
      const rec = agentOf(c)
      return c.json({ agentId: rec.agent.id, memberId: rec.member.id, workspaceId: rec.member.workspaceId, handle: rec.member.handle })
    })
    .post('/act', validate('json', z.union([z.object({ actions: z.array(z.unknown()).max(20) }), z.object({ action: z.unknown() })])), async (c) => {
      const body = c.req.valid('json')
      return c.json(await act(agentOf(c), 'actions' in body ? body.actions : [body.action]))
    })
    .post('/post_message', validate('json', z.object({ conversationId: z.string(), bodyMd: z.string(), replyTo: z.string().optional() })), async (c) => {
      const b = c.req.valid('json')
      return c.json(await single(agentOf(c), { type: 'post_message', conversation_id: b.conversationId, body_md: b.bodyMd, reply_to: b.replyTo }))
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
      return c.json({ conversations: await listMine(gw, authOf(c)) })
    })
    .get('/messages', (c) => {
      agentOf(c)
      const q = z.object({ conversationId: z.string(), parentId: z.string().optional(), before: z.string().optional(), cursor: z.string().min(1).max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).safeParse(c.req.query())
      if (!q.success) throw badRequest('invalid_input', 'conversationId is required; limit is 1–200.')
      const before = q.data.before === undefined ? undefined : /^\d+$/.test(q.data.before) ? Number(q.data.before) : Date.parse(q.data.before)
      if (before !== undefined && Number.isNaN(before)) throw badRequest('invalid_input', 'before is a time: epoch ms or ISO 8601.')
      return c.json(listMessages(gw, authOf(c), q.data.conversationId, { before, cursor: q.data.cursor, limit: q.data.limit, parentId: q.data.parentId }))
    })
    .get('/thread', (c) => {
      agentOf(c)
      const messageId = c.req.query('messageId')
      if (!messageId) throw badRequest('invalid_input', 'messageId is required.')
      const root = gw.db.$client.prepare('SELECT conversation_id, parent_id FROM messages WHERE id = ?').get(messageId) as { conversation_id: string; parent_id: string | null } | undefined
      if (!root) throw notFound('message_not_found', 'No such message.')
      const rootId = root.parent_id ?? messageId
      return c.json(listMessages(gw, authOf(c), root.conversation_id, { limit: 200, parentId: rootId }))
    })
    .get('/search', () => {
      throw notEnabled('Search for agents')
    })
    .get('/members', (c) => {
      const rec = agentOf(c)
      const rows = gw.db.select().from(members).where(and(eq(members.workspaceId, rec.member.workspaceId), eq(members.deactivated, false))).all()
      return c.json({ humans: rows.filter((m) => m.kind === 'user').map(memberShape), agents: rows.filter((m) => m.kind === 'agent').map(memberShape) })
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
    .delete('/memory', (c) => {
      const rec = agentOf(c)
      const q = z.object({ key: z.string().min(1), scope: scope.default('global'), scopeId: z.string().default('') }).safeParse(c.req.query())
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
    .post('/uploads', () => {
      throw notEnabled('File upload')
    })
    .all('/tasks/*', () => {
      throw notEnabled('The task board')
    })
    .all('/tasks', () => {
      throw notEnabled('The task board')
    })
}

