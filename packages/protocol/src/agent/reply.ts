import { z } from 'zod'
import { actionAliases, agentActionSchema, MAX_ACTIONS_PER_REPLY } from './actions.js'
import type { AgentAction } from './actions.js'

// How an agent's answer is read (docs/agents.md "Reply"). Lenient on purpose: the seed's
// agents answer in several shapes, models wrap JSON in code fences, and frameworks fill trace
// and usage with whatever they have. Each field is read on its own, so no field sinks the rest.

export const HEARTBEAT_OK = 'HEARTBEAT_OK'

export const agentUsageSchema = z.object({
  provider: z.string().optional(),
  model: z.string().optional(),
  /** Every prompt token, cached or not. */
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  /** How many of inputTokens were read from the provider's prompt cache (a part of them, not extra). */
  cachedInputTokens: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional()
}).refine((u) => (u.cachedInputTokens ?? 0) <= u.inputTokens, {
  path: ['cachedInputTokens'],
  message: 'cachedInputTokens is the cached part of inputTokens, so it cannot exceed it'
})
export type AgentUsage = z.infer<typeof agentUsageSchema>

export const agentReplyJsonSchema = z.object({
  actions: z.array(z.unknown()),
  trace: z.array(z.string()).optional(),
  usage: agentUsageSchema.optional()
})
export type AgentReplyJson = z.infer<typeof agentReplyJsonSchema>

/** What the fields beside the actions said; each was read on its own (readReplyExtras). */
export interface ReplyExtras {
  trace?: string[]
  usage?: AgentUsage
  /** Why part of the reply could not be read; recorded on the run and fed back in lastRun. */
  errors?: string[]
}

export type ParsedReply =
  | ({ kind: 'silent' } & ReplyExtras)
  | ({
      kind: 'actions'
      /** Raw, unvalidated: each goes through validateAction on its own so one bad one never sinks the rest. */
      actions: unknown[]
      /** Prose outside an <actions> block (or a plain-text reply); the executor posts it through the guard. */
      leftoverText?: string
      /** How many actions beyond the cap were dropped. */
      truncated?: number
    } & ReplyExtras)

const silent = { kind: 'silent' } as const
// Traces hold whatever an agent's framework logged: kept, but readable and small.
export const MAX_TRACE_ENTRIES = 100
export const MAX_TRACE_ENTRY_CHARS = 2000
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
  const extras = readReplyExtras(obj)
  // No actions array is no actions: {"status":"HEARTBEAT_OK"}, {} and a bare {usage} are all silent.
  if (!Array.isArray(obj.actions)) {
    if (obj.actions !== undefined && obj.actions !== null) (extras.errors ??= []).push('actions must be an array; none were applied')
    return { kind: 'silent', ...extras }
  }
  return { kind: 'actions', ...capped(obj.actions), ...extras }
}

/**
 * Reads trace and usage, each on its own, so neither can sink a reply: a trace entry that is
 * not a string is stringified, and a usage that does not fit agentUsageSchema is dropped with
 * the reason in `errors`. A null or missing field is simply absent.
 */
function readReplyExtras(obj: Record<string, unknown>): ReplyExtras {
  const out: ReplyExtras = {}
  const errors: string[] = []
  if (obj.trace !== undefined && obj.trace !== null) {
    const entries = Array.isArray(obj.trace) ? obj.trace : [obj.trace]
    out.trace = entries.slice(0, MAX_TRACE_ENTRIES).map(traceEntry)
    if (entries.length > MAX_TRACE_ENTRIES) errors.push(`${entries.length - MAX_TRACE_ENTRIES} trace entries beyond the limit of ${MAX_TRACE_ENTRIES} were dropped`)
  }
  if (obj.usage !== undefined && obj.usage !== null) {
    const usage = agentUsageSchema.safeParse(obj.usage)
    if (usage.success) out.usage = usage.data
    else errors.push(`usage dropped: ${usage.error.issues.map((i) => `${i.path.join('.') || '(usage)'}: ${i.message}`).join('; ')}`)
  }
  if (errors.length > 0) out.errors = errors
  return out
}

function traceEntry(entry: unknown): string {
  let text: string
  try {
    text = typeof entry === 'string' ? entry : (JSON.stringify(entry) ?? String(entry))
  } catch {
    text = '(a trace entry nested too deep to show)' // String() would recurse as deep
  }
  return text.length <= MAX_TRACE_ENTRY_CHARS ? text : `${text.slice(0, MAX_TRACE_ENTRY_CHARS)}…`
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
