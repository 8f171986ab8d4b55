import { setTimeout as sleep } from 'node:timers/promises'
import { eq } from 'drizzle-orm'
import { agentRuns, agents, type Db } from '@circlechat/db'
import { newId } from '@circlechat/model'
import { parseAgentReply, type AgentUsage } from '@circlechat/protocol'
import type { Gateway } from '../deps.js'
import { buildPacket, type TriggerEvent } from './packet.js'
import { dispatchPacket, PermanentDispatchError, type DispatchOptions } from './dispatch.js'
import { executeActions, type ActionError } from './executor.js'
import { agentById } from './store.js'
import type { TokenVault } from './token-vault.js'
import type { Thinking } from './thinking.js'

export interface RunnerOptions extends DeliverOptions {
  thinking: Thinking
}

/**
 * Rough list price when an agent reports no cost: $3 / $15 per million input / output tokens,
 * except cached input tokens (a part of inputTokens) at a tenth of the input price, $0.30, the
 * way providers bill prompt-cache reads (Anthropic a tenth, OpenAI a tenth to a half).
 */
export function estimateUsd(u: { inputTokens: number; outputTokens: number; cachedInputTokens?: number }): number {
  const cached = Math.min(u.cachedInputTokens ?? 0, u.inputTokens)
  return ((u.inputTokens - cached) * 3 + cached * 0.3 + u.outputTokens * 15) / 1_000_000
}

/** What the deliver half hands the apply half: plain JSON, so it can cross a queue. */
export interface Delivery {
  runId: string
  agentId: string
  startedAt: number
  attempts: number
  /** Why delivery failed, or null with the agent's raw reply. */
  failure: string | null
  reply: string | null
  /** Where prose and actions without a conversation go: the trigger's, else the packet's first (scheduled, test). */
  replyConversationId: string | null
  /** The trigger's task (task_assigned, task_comment): task memory's default, and where prose goes on the workspace board. */
  replyTaskId?: string | null
  /** Packet size, for the token estimate when the agent reports no usage. */
  packetChars: number
  /** The server stopped during delivery: the run failed, the agent did not. */
  stopped?: boolean
}

export interface DeliverOptions extends DispatchOptions {
  vault: TokenVault
  /** Delivery attempts per run (contract: retried with backoff at most 3 times). */
  attempts: number
  backoffMs: number
  /** PUBLIC_BASE_URL: attachment URLs in packets are absolute on it. */
  publicBaseUrl: string
}

/**
 * One run, end to end: packet → dispatch (with retries) → reply → executor → audit row. A run
 * that fails marks the agent in error; nothing here can block or slow the relay.
 */
export async function runAgent(gw: Gateway, opts: RunnerOptions, agentId: string, event: TriggerEvent): Promise<string | null> {
  let thinkingIn: string | null = null
  let memberId = ''
  try {
    const delivery = await deliverRun(gw.db, opts, agentId, event, (conversationId, member) => {
      thinkingIn = conversationId
      memberId = member
      if (conversationId) opts.thinking.start(conversationId, member)
    })
    if (!delivery) return null
    await applyRun(gw, delivery)
    return delivery.runId
  } finally {
    if (thinkingIn) opts.thinking.stop(thinkingIn, memberId)
  }
}

const yieldToRelay = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The first half of a run, which needs only the database and the network: builds the packet,
 * records the run, and delivers it with retries. Split from applyRun so a separate worker
 * process (src/worker.ts) can do this half while the server, which owns the live documents,
 * applies the reply.
 */
export async function deliverRun(db: Db, opts: DeliverOptions, agentId: string, event: TriggerEvent, onStart?: (conversationId: string | null, memberId: string) => void): Promise<Delivery | null> {
  if (opts.signal?.aborted) return null
  const rec = agentById(db, agentId)
  if (!rec || rec.member.deactivated || rec.agent.adapter === 'peer') return null
  const isHeartbeat = event.trigger === 'scheduled' || event.trigger === 'ambient'
  if (rec.agent.adapter === 'socket' && isHeartbeat && !opts.hub.isConnected(agentId)) return null
  const runId = newId('run')
  // Many runs start in the same tick (one post wakes every agent of a channel); yielding first
  // lets the relay's messages in between packet builds instead of behind all of them.
  await yieldToRelay()
  const packet = buildPacket(db, rec, event, runId, opts.publicBaseUrl)
  if (!packet) return null // a heartbeat with nothing new: the agent is not called

  const startedAt = Date.now()
  db.insert(agentRuns).values({
    id: runId, agentId, trigger: event.trigger, conversationId: packet.triggerConversationId, messageId: event.messageId ?? null,
    status: 'running', packet, startedAt, createdAt: startedAt
  }).run()
  db.update(agents).set({ status: 'running' }).where(eq(agents.id, agentId)).run()
  onStart?.(packet.triggerConversationId, rec.member.id)

  const base = {
    runId, agentId, startedAt, replyConversationId: packet.triggerConversationId ?? packet.inbox[0]?.conversationId ?? null,
    replyTaskId: packet.task?.id ?? null, packetChars: JSON.stringify(packet).length }
  let attempts = 0
  let failure: string | null = null
  try {
    const token = opts.vault.open(rec.agent.tokenCipher)
    for (;;) {
      attempts++
      try {
        const reply = await dispatchPacket({ agentId, adapter: rec.agent.adapter, callbackUrl: rec.agent.callbackUrl, token }, packet, opts)
        return { ...base, attempts, failure: null, reply }
      } catch (err) {
        if (opts.signal?.aborted) return { ...base, attempts, failure: SERVER_STOPPED, reply: null, stopped: true }
        failure = err instanceof Error ? err.message : String(err)
        if (err instanceof PermanentDispatchError || attempts >= opts.attempts) break
        try {
          await sleep(opts.backoffMs * 2 ** (attempts - 1), undefined, { signal: opts.signal })
        } catch {
          return { ...base, attempts, failure: SERVER_STOPPED, reply: null, stopped: true }
        }
      }
    }
  } catch (err) {
    console.error('agent delivery failed', runId, err)
    failure = 'the server failed this run'
  }
  return { ...base, attempts, failure, reply: null }
}

/** The second half of a run, in the process that owns the documents: executor and audit. */
export async function applyRun(gw: Gateway, d: Delivery): Promise<void> {
  const { runId, agentId, startedAt, attempts } = d
  try {
    if (d.failure !== null) {
      finish(gw.db, runId, agentId, startedAt, { status: 'error', attempts, errors: [{ index: -1, type: 'dispatch', error: d.failure }], agentError: d.stopped ? undefined : d.failure })
      return
    }
    await yieldToRelay() // replies of agents woken together arrive together; interleave with chat
    const rec = agentById(gw.db, agentId)
    if (!rec) return
    const replyText = d.reply ?? ''
    const parsed = parseAgentReply(replyText)
    // Parts of the reply that could not be read (a bad usage, a bad <actions> block) never fail
    // the run: they are recorded, and the agent sees them in its next packet's lastRun.
    const replyErrors: ActionError[] = (parsed.errors ?? []).map((error) => ({ index: -1, type: 'reply', error }))
    if (parsed.kind === 'silent') {
      finish(gw.db, runId, agentId, startedAt, { status: 'silent', attempts, reply: replyText, errors: replyErrors, trace: parsed.trace, usage: parsed.usage })
      return
    }
    const actions = [...parsed.actions]
    if (parsed.leftoverText?.trim()) {
      // Prose outside the <actions> block is a message to the conversation the agent was shown first.
      // A task with no conversation (the workspace board) takes it as a comment.
      if (d.replyConversationId) actions.push({ type: 'post_message', conversation_id: d.replyConversationId, body_md: parsed.leftoverText })
      else if (d.replyTaskId) actions.push({ type: 'task_comment', task_id: d.replyTaskId, body_md: parsed.leftoverText })
    }
    const result = await executeActions(gw, rec, actions, { runId, conversationId: d.replyConversationId, taskId: d.replyTaskId ?? null })
    const errors: ActionError[] = [...replyErrors, ...result.errors]
    if (parsed.truncated) errors.push({ index: -1, type: 'reply', error: `${parsed.truncated} actions beyond the limit of 20 were dropped` })
    const usage = parsed.usage ?? { inputTokens: Math.ceil(d.packetChars / 4), outputTokens: Math.ceil(replyText.length / 4) }
    finish(gw.db, runId, agentId, startedAt, { status: 'ok', attempts, reply: replyText, applied: result.applied, errors, trace: parsed.trace, usage })
  } catch (err) {
    console.error('agent run failed', runId, err)
    finish(gw.db, runId, agentId, startedAt, { status: 'error', attempts, errors: [{ index: -1, type: 'internal', error: 'the server failed this run' }], agentError: 'internal error' })
  }
}

interface Outcome {
  status: 'ok' | 'silent' | 'error'
  attempts: number
  reply?: string
  applied?: unknown[]
  errors?: ActionError[]
  trace?: string[]
  usage?: AgentUsage | { inputTokens: number; outputTokens: number }
  agentError?: string
}

function finish(db: Db, runId: string, agentId: string, startedAt: number, o: Outcome) {
  const usage = o.usage as AgentUsage | undefined
  const cost = usage ? (usage.costUsd ?? estimateUsd(usage)) : null
  db.update(agentRuns).set({
    status: o.status, attempts: o.attempts, reply: o.reply?.slice(0, 100_000) ?? null, applied: o.applied ?? [], errors: o.errors ?? [],
    trace: o.trace ?? [], usage: usage ?? null, costUsd: cost === null ? null : Math.round(cost * 1_000_000), finishedAt: Date.now()
  }).where(eq(agentRuns.id, runId)).run()
  db.update(agents).set({ status: o.status === 'error' && o.agentError ? 'error' : 'idle', lastError: o.agentError ?? null, lastRunAt: startedAt }).where(eq(agents.id, agentId)).run()
}

export const SERVER_STOPPED = 'the server stopped during this run'

/**
 * Runs left "running" by a process that stopped without finishing them (killed, power lost):
 * recorded as failed, their agents idle. Only where runs happen in this process alone.
 */
export function failInterruptedRuns(db: Db): number {
  const now = Date.now()
  const stale = db.update(agentRuns).set({ status: 'error', errors: [{ index: -1, type: 'dispatch', error: SERVER_STOPPED }], finishedAt: now })
    .where(eq(agentRuns.status, 'running')).run()
  db.update(agents).set({ status: 'idle' }).where(eq(agents.status, 'running')).run()
  return stale.changes
}
