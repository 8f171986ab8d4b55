import { eq } from 'drizzle-orm'
import { agentRuns, agents } from '@circlechat/db'
import { newId } from '@circlechat/model'
import { parseAgentReply, type AgentUsage } from '@circlechat/protocol'
import type { Gateway } from '../deps.js'
import { buildPacket, type TriggerEvent } from './packet.js'
import { dispatchPacket, PermanentDispatchError, type DispatchOptions } from './dispatch.js'
import { executeActions, type ActionError } from './executor.js'
import { agentById } from './store.js'
import type { TokenVault } from './token-vault.js'
import type { Thinking } from './thinking.js'

export interface RunnerOptions extends DispatchOptions {
  vault: TokenVault
  thinking: Thinking
  /** Delivery attempts per run (contract: retried with backoff at most 3 times). */
  attempts: number
  backoffMs: number
}

/** Rough list price when an agent reports no cost: $3 / $15 per million input / output tokens. */
export const estimateUsd = (u: { inputTokens: number; outputTokens: number }) => (u.inputTokens * 3 + u.outputTokens * 15) / 1_000_000

/**
 * One run, end to end: packet → dispatch (with retries) → reply → executor → audit row. A run
 * that fails marks the agent in error; nothing here can block or slow the relay.
 */
export async function runAgent(gw: Gateway, opts: RunnerOptions, agentId: string, event: TriggerEvent): Promise<string | null> {
  const rec = agentById(gw.db, agentId)
  if (!rec || rec.member.deactivated || rec.agent.adapter === 'peer') return null
  const isHeartbeat = event.trigger === 'scheduled' || event.trigger === 'ambient'
  if (rec.agent.adapter === 'socket' && isHeartbeat && !opts.hub.isConnected(agentId)) return null
  const runId = newId('run')
  const packet = buildPacket(gw.db, rec, event, runId)
  if (!packet) return null // a heartbeat with nothing new: the agent is not called

  const startedAt = Date.now()
  gw.db.insert(agentRuns).values({
    id: runId, agentId, trigger: event.trigger, conversationId: packet.triggerConversationId, messageId: event.messageId ?? null,
    status: 'running', packet, startedAt, createdAt: startedAt
  }).run()
  gw.db.update(agents).set({ status: 'running' }).where(eq(agents.id, agentId)).run()
  const thinkingIn = packet.triggerConversationId
  if (thinkingIn) opts.thinking.start(thinkingIn, rec.member.id)

  let attempts = 0
  let reply: unknown
  let failure: string | null = null
  try {
    const token = opts.vault.open(rec.agent.tokenCipher)
    for (;;) {
      attempts++
      try {
        reply = await dispatchPacket({ agentId, adapter: rec.agent.adapter, callbackUrl: rec.agent.callbackUrl, token }, packet, opts)
        failure = null
        break
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err)
        if (err instanceof PermanentDispatchError || attempts >= opts.attempts) break
        await new Promise((r) => setTimeout(r, opts.backoffMs * 2 ** (attempts - 1)))
      }
    }
    if (failure !== null) {
      finish(gw, runId, agentId, startedAt, { status: 'error', attempts, errors: [{ index: -1, type: 'dispatch', error: failure }], agentError: failure })
      return runId
    }

    const parsed = parseAgentReply(reply)
    const replyText = typeof reply === 'string' ? reply : JSON.stringify(reply)
    if (parsed.kind === 'silent') {
      finish(gw, runId, agentId, startedAt, { status: 'silent', attempts, reply: replyText })
      return runId
    }
    const actions = [...parsed.actions]
    if (parsed.leftoverText?.trim()) {
      // Prose outside the <actions> block is a message to the trigger's conversation.
      if (packet.triggerConversationId) actions.push({ type: 'post_message', conversation_id: packet.triggerConversationId, body_md: parsed.leftoverText })
    }
    const result = await executeActions(gw, rec, actions, { runId, conversationId: packet.triggerConversationId })
    const errors: ActionError[] = [...(parsed.errors ?? []).map((error) => ({ index: -1, type: 'reply', error })), ...result.errors]
    if (parsed.truncated) errors.push({ index: -1, type: 'reply', error: `${parsed.truncated} actions beyond the limit of 20 were dropped` })
    const usage = parsed.usage ?? { inputTokens: Math.ceil(JSON.stringify(packet).length / 4), outputTokens: Math.ceil(replyText.length / 4) }
    finish(gw, runId, agentId, startedAt, { status: 'ok', attempts, reply: replyText, applied: result.applied, errors, trace: parsed.trace, usage })
    return runId
  } catch (err) {
    console.error('agent run failed', runId, err)
    finish(gw, runId, agentId, startedAt, { status: 'error', attempts, errors: [{ index: -1, type: 'internal', error: 'the server failed this run' }], agentError: 'internal error' })
    return runId
  } finally {
    if (thinkingIn) opts.thinking.stop(thinkingIn, rec.member.id)
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

function finish(gw: Gateway, runId: string, agentId: string, startedAt: number, o: Outcome) {
  const usage = o.usage as AgentUsage | undefined
  const cost = usage ? (usage.costUsd ?? estimateUsd(usage)) : null
  gw.db.update(agentRuns).set({
    status: o.status, attempts: o.attempts, reply: o.reply?.slice(0, 100_000) ?? null, applied: o.applied ?? [], errors: o.errors ?? [],
    trace: o.trace ?? [], usage: usage ?? null, costUsd: cost === null ? null : Math.round(cost * 1_000_000), finishedAt: Date.now()
  }).where(eq(agentRuns.id, runId)).run()
  gw.db.update(agents).set({ status: o.status === 'error' ? 'error' : 'idle', lastError: o.agentError ?? null, lastRunAt: startedAt }).where(eq(agents.id, agentId)).run()
}
