import { z } from 'zod'
import { actionAliases, agentActionSchema, MAX_ACTIONS_PER_REPLY } from './actions.js'
import type { AgentAction } from './actions.js'

// How an agent's answer is read (AGENT-CONTRACT.md "Reply"). Lenient on purpose: the seed's
// agents answer in several shapes, and models wrap JSON in code fences.

export const HEARTBEAT_OK = 'HEARTBEAT_OK'

export const agentUsageSchema = z.object({
  provider: z.string().optional(),
  model: z.string().optional(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().optional()
})
export type AgentUsage = z.infer<typeof agentUsageSchema>

export const agentReplyJsonSchema = z.object({
  actions: z.array(z.unknown()),
  trace: z.array(z.string()).optional(),
  usage: agentUsageSchema.optional()
})
export type AgentReplyJson = z.infer<typeof agentReplyJsonSchema>

export type ParsedReply =
  | { kind: 'silent' }
  | {
      kind: 'actions'
      /** Raw, unvalidated: each goes through validateAction on its own so one bad one never sinks the rest. */
      actions: unknown[]
      trace?: string[]
      usage?: AgentUsage
      /** Prose outside an <actions> block (or a plain-text reply); the executor posts it through the guard. */
      leftoverText?: string
      /** How many actions beyond the cap were dropped. */
      truncated?: number
      /** Why part of the reply could not be read (bad JSON in an <actions> block). */
      errors?: string[]
    }

const silent = { kind: 'silent' } as const
// `HEARTBEAT_OK`, optionally quoted, backticked or bolded, with trailing punctuation.
const heartbeatOnly = /^[\s"'`*_]*HEARTBEAT_OK[\s"'`*_.!]*$/i
const actionsBlock = /<actions>([\s\S]*?)<\/actions>/gi
const fenced = /^```[a-z]*\s*\n?([\s\S]*?)\n?```$/i

export function parseAgentReply(raw: string | unknown): ParsedReply {
  if (raw === undefined || raw === null) return silent
  if (typeof raw !== 'string') return fromJson(raw)
  const text = raw.trim()
  if (text === '' || heartbeatOnly.test(text)) return silent
  const json = tryJson(unfence(text))
  if (json.ok) return fromJson(json.value)
  return fromText(text)
}

function fromJson(value: unknown): ParsedReply {
  if (typeof value === 'string') return value.trim() === '' || heartbeatOnly.test(value) ? silent : fromText(value.trim())
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return silent
  const obj = value as Record<string, unknown>
  if (!Array.isArray(obj.actions)) return silent // includes {"status":"HEARTBEAT_OK"}
  const out: ParsedReply = { kind: 'actions', ...capped(obj.actions) }
  const trace = z.array(z.string()).safeParse(obj.trace)
  if (trace.success) out.trace = trace.data
  const usage = agentUsageSchema.safeParse(obj.usage)
  if (usage.success) out.usage = usage.data
  return out
}

function fromText(text: string): ParsedReply {
  const actions: unknown[] = []
  const errors: string[] = []
  for (const m of text.matchAll(actionsBlock)) {
    const inner = tryJson(unfence((m[1] ?? '').trim()))
    if (!inner.ok) errors.push(`<actions> block is not valid JSON: ${inner.error}`)
    else if (!Array.isArray(inner.value)) errors.push('<actions> block must hold a JSON array')
    else actions.push(...inner.value)
  }
  let leftover = text.replace(actionsBlock, '').trim()
  if (heartbeatOnly.test(leftover)) leftover = ''
  if (actions.length === 0 && errors.length === 0 && leftover === '') return silent
  const out: ParsedReply = { kind: 'actions', ...capped(actions) }
  if (leftover !== '') out.leftoverText = leftover
  if (errors.length > 0) out.errors = errors
  return out
}

function capped(actions: unknown[]): { actions: unknown[]; truncated?: number } {
  if (actions.length <= MAX_ACTIONS_PER_REPLY) return { actions }
  return { actions: actions.slice(0, MAX_ACTIONS_PER_REPLY), truncated: actions.length - MAX_ACTIONS_PER_REPLY }
}

function unfence(text: string): string {
  const m = fenced.exec(text)
  return m ? (m[1] ?? '').trim() : text
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (e) {
    return { ok: false, error: (e as Error).message }
  }
}

export type ValidatedAction = { ok: true; action: AgentAction } | { ok: false; error: string }

/** Normalises aliases, then checks one action against the allowlist. The error is fed back to the agent. */
export function validateAction(raw: unknown): ValidatedAction {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'action must be a JSON object' }
  const obj = raw as Record<string, unknown>
  if (typeof obj.type !== 'string') return { ok: false, error: 'action has no "type"' }
  const type = actionAliases[obj.type] ?? obj.type
  const result = agentActionSchema.safeParse({ ...obj, type })
  if (result.success) return { ok: true, action: result.data }
  const unknownType = result.error.issues.some((i) => i.path.length === 1 && i.path[0] === 'type')
  if (unknownType) return { ok: false, error: `action type "${obj.type}" is not allowed` }
  const detail = result.error.issues.map((i) => `${i.path.join('.') || '(action)'}: ${i.message}`).join('; ')
  return { ok: false, error: `${type}: ${detail}` }
}
