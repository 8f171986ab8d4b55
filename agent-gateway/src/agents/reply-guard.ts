import { findNearDuplicate } from './near-duplicate.js'
import {
  actionJsonRules, chainOfThoughtRules, guardCategory, heartbeatRules, isEmptyBody, metaNarrationRules,
  providerErrorRules, refusalRules, REPEAT_MAX, REPEAT_MIN_CHARS, toolCallRules, toolFenceRule, tracebackRules
} from './reply-guard-rules.js'
import type { GuardCategory } from './reply-guard-rules.js'
import { scrubSecrets } from './secrets.js'

// Server-side check on every text body an agent wants to post. Pure: the caller passes the
// conversation's recent bodies and records a rejection on the run (fed back in lastRun).

export type GuardResult = { ok: true; body: string; redactions: number } | { ok: false; category: GuardCategory; reason: string }
export interface GuardContext {
  /** The conversation's recent message bodies, for near-duplicate refusal. */
  recentBodies?: readonly string[]
}

/** Reasons are read by the agent's next run, so each says what to do instead. */
const reasons: Record<GuardCategory, string> = {
  empty: 'the body is empty; reply HEARTBEAT_OK to stay silent',
  heartbeat_leak: 'HEARTBEAT_OK is a reply status, not message text; return it on its own to stay silent',
  traceback: 'the body is a Python traceback; describe the problem in words instead of pasting the stack',
  provider_error: 'the body echoes a gateway or model-provider error; report failures through trace, not chat',
  refusal: 'the body is assistant refusal or capability boilerplate; say what you can do, or stay silent',
  tool_call: 'the body contains tool-call markup or tool-call JSON; only the final message text may be posted',
  action_json: 'the body contains action JSON or an <actions> tag; put actions in the actions array, not in text',
  repetition: 'the body repeats the same line three or more times',
  meta_narration: 'the body narrates the posting itself ("Message sent"); post only the message',
  chain_of_thought: 'the body contains reasoning about the request; post only the answer',
  near_duplicate: 'the body nearly duplicates a recent message in this conversation'
}

export function checkBody(raw: string, ctx: GuardContext = {}): GuardResult {
  const { body, count } = scrubSecrets(raw)
  if (isEmptyBody(body)) return reject('empty')
  const code = judgedText(body)
  const prose = withoutQuotes(code)
  if (heartbeatRules.some((r) => r.test(prose))) return reject('heartbeat_leak')
  if (tracebackRules.some((r) => r.test(code))) return reject('traceback')
  if (providerErrorRules.some((r) => r.test(code))) return reject('provider_error')
  if (toolFenceRule.test(body) || toolCallRules.some((r) => r.test(code))) return reject('tool_call')
  if (actionJsonRules.some((r) => r.test(code))) return reject('action_json')
  if (chainOfThoughtRules.some((r) => r.test(prose))) return reject('chain_of_thought')
  if (metaNarrationRules.some((r) => r.test(prose))) return reject('meta_narration')
  if (refusalRules.some((r) => r.test(prose))) return reject('refusal')
  if (hasRunawayRepetition(code)) return reject('repetition')
  const dup = findNearDuplicate(body, ctx.recentBodies ?? [])
  if (dup) return { ok: false, category: 'near_duplicate', reason: `${reasons.near_duplicate} (similarity ${dup.similarity.toFixed(2)})` }
  return { ok: true, body, redactions: count }
}

function reject(category: GuardCategory): GuardResult {
  return { ok: false, category, reason: reasons[category] }
}

const fence = /(^|\n)[ \t]*(```|~~~)[^\n]*\n[\s\S]*?(\n[ \t]*\2[ \t]*(?=\n|$)|$)/g

/**
 * What the rules read. Prose with code blocks is judged by its prose: the code is what the
 * user asked about. A body that is nothing but code is judged by the code, since a model
 * dumping a stack trace into a fence is still dumping a stack trace.
 */
export function judgedText(body: string): string {
  const prose = body.replace(fence, '\n').replace(/`[^`\n]+`/g, ' ')
  if (/[\p{L}\p{N}]{3}/u.test(prose)) return prose
  return body.replace(/^[ \t]*(```|~~~)[^\n]*$/gm, '')
}

/** Drops quotations (blockquotes, "…", “…”) for the rules about the agent's own voice. */
function withoutQuotes(text: string): string {
  return text.replace(/^[ \t]*>.*$/gm, '').replace(/"[^"\n]{1,300}"|“[^”\n]{1,300}”/g, ' ')
}

function hasRunawayRepetition(text: string): boolean {
  const counts = new Map<string, number>()
  // Lines and sentences: a looping model repeats either.
  for (const line of text.split(/\n|(?<=[.!?])[ \t]+/)) {
    const key = line.trim().toLowerCase()
    if (key.length < REPEAT_MIN_CHARS) continue
    const n = (counts.get(key) ?? 0) + 1
    if (n > REPEAT_MAX) return true
    counts.set(key, n)
  }
  return false
}

export { guardCategory, scrubSecrets }
export type { GuardCategory }
