// The reply-guard's rules, one list per category (docs/agents.md "Actions").
// Each rule is aimed at what a derailed model or a broken bridge emits, never at a topic:
// people discuss errors, refusals and tool calls all day, so rules look at the *form* of
// the text (where it starts, what surrounds it) and most of them skip code and quotations.

export const guardCategory = {
  empty: 'empty',
  heartbeatLeak: 'heartbeat_leak',
  traceback: 'traceback',
  providerError: 'provider_error',
  refusal: 'refusal',
  toolCall: 'tool_call',
  actionJson: 'action_json',
  repetition: 'repetition',
  metaNarration: 'meta_narration',
  chainOfThought: 'chain_of_thought',
  nearDuplicate: 'near_duplicate'
} as const
export type GuardCategory = (typeof guardCategory)[keyof typeof guardCategory]

/** A body with nothing to read: whitespace, zero-width characters, an empty fence, a null literal. */
export function isEmptyBody(body: string): boolean {
  const bare = body.replace(/[\s\u200b-\u200d\u2060\ufeff]/g, '').replace(/```|~~~/g, '')
  return bare === '' || /^(null|undefined|none|nil|""|''|\{\}|\[\])$/i.test(bare)
}

export const heartbeatRules: RegExp[] = [
  /\bHEARTBEAT[_-]OK\b/i,
  // Upper-case HEARTBEAT (also "HEARTBEAT OK") is the token half-emitted; "is the heartbeat ok?"
  // in prose is a normal question.
  /\bHEARTBEAT\b/
]

export const tracebackRules: RegExp[] = [
  /Traceback \(most recent call last\)/,
  /^\s*File "[^"\n]+", line \d+(, in \S+)?\s*$/m,
  // The whole body is one Python exception line, e.g. `KeyError: 'choices'`.
  /^\s*([A-Za-z_][\w]*\.)*[A-Z]\w*(Error|Exception|Interrupt|Exit)(: .{0,200})?\s*$/
]

export const providerErrorRules: RegExp[] = [
  /\bAPI (call|request) failed after \d+ (retries|retry|attempts)\b/i,
  /^\s*HTTP(\/\d(\.\d)?)?\s*[45]\d\d\b\s*[:-]/i,
  /^\s*(error:?\s*)?[45]\d\d\s+(Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Too Many Requests|Unauthorized|Forbidden)\b/i,
  /^\s*\[?error\]?( code)?\s*:\s*(\d{3}\b|request failed|upstream|connect|timeout|timed out|fetch failed|ECONN|ETIMEDOUT|model|provider|the (api|model|provider))/i,
  /^\s*(upstream (connect )?error|fetch failed|socket hang up|request timed out|connect (ECONNREFUSED|ETIMEDOUT))\b/i,
  /^\s*(error:\s*)?Request failed with status code [45]\d\d\b/i,
  /^\s*(error:\s*)?connect (ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH) \d{1,3}(\.\d{1,3}){3}:\d+/i,
  // Provider error envelopes: OpenAI {"error":{"message"...}}, Anthropic {"type":"error",...}.
  /\{\s*"error"\s*:\s*\{\s*"(message|type|code)"\s*:/,
  /\{\s*"type"\s*:\s*"error"\s*,\s*"error"\s*:/,
  // Provider error codes, as JSON values or leading the body (people mention them in passing too).
  /"(overloaded_error|insufficient_quota|context_length_exceeded|invalid_api_key|rate_limit_error|model_not_found|invalid_request_error)"|^\s*(overloaded_error|insufficient_quota|context_length_exceeded|invalid_api_key|rate_limit_error|model_not_found)\b/
]

export const refusalRules: RegExp[] = [
  /\bas an AI( language)? (model|assistant)\b/i,
  /\bI('m| am) (sorry|afraid),? but I (can(no|')t|am unable to|'m unable to|won't be able to|am not able to) (assist|help|comply|provide|fulfill|do that|complete (that|this)|continue|process|answer)\b/i,
  /\bI can(no|')t (assist|help) with (that|this)( request)?\b/i,
  /\bI must (respectfully )?decline\b/i,
  /\bmy (knowledge|training)( data)? cut-?off\b/i,
  /\bI (don't|do not) have (the )?(ability|capability|access to (the internet|real-time|external|browsing|tools))\b/i,
  /\bI('m| am) (not able|unable) to (browse|access the internet|post messages|send messages|use tools|execute (code|tools|actions)|perform actions)\b/i,
  /\b(the )?tool (call|execution|invocation) (failed|errored|was unsuccessful)\b/i,
  /\bI was unable to (complete|execute|run) the (tool|action|function)( call)?\b/i
]

export const toolCallRules: RegExp[] = [
  /<\/?(tool_call|tool_calls|tool_use|tool_result|function_call|function_calls|function_results|invoke|antml:[a-z_]+)\b[^>]*>/i,
  /<\|(tool_call|tool_calls|python_tag|im_start|im_end|eot_id|start_header_id|end_header_id|call|return)[^|]{0,40}\|>/i,
  /\[TOOL_CALLS\]|\[TOOL_RESULTS\]/,
  /"(tool_calls|function_call|tool_use_id)"\s*:/,
  /\{\s*"name"\s*:\s*"[\w.-]+"\s*,\s*"(arguments|parameters|input)"\s*:/,
  /"type"\s*:\s*"(function|tool_use|tool_result)"/
]

/** A fence labelled as tool code; read on the raw body, since the judged text drops fence lines. */
export const toolFenceRule = /^[ \t]*(```|~~~)[ \t]*tool_(code|call|use)\b/m

const actionTypes = 'post_message|react|open_thread|share_files|create_task|update_task|assign_task|task_comment|share_to_task|request_approval|set_memory|comment_on_task|add_comment|comment'
export const actionJsonRules: RegExp[] = [
  /<\/?actions\s*>/i,
  new RegExp(`"type"\\s*:\\s*"(${actionTypes})"`),
  /"(conversation_id|body_md|task_id|message_id|reply_to)"\s*:/,
  /"actions"\s*:\s*\[/
]

export const metaNarrationRules: RegExp[] = [
  // A line that is only the status: "Message sent.", "(Reply posted to #general)".
  /^\s*[([]?\s*(message|reply|response|comment) (sent|posted|delivered)( successfully)?( (to|in) (the )?(channel|thread|conversation|dm|#\S+))?\s*[.!]?\s*[)\]]?\s*$/im,
  /\b(my |the )?(reply|message|response|comment) (has been|was|is) (successfully )?(posted|sent|delivered|published)( successfully)?( to| in)? ?(the )?(channel|thread|conversation|dm|#|successfully)/i,
  /\bI('ve| have) (successfully )?(posted|sent) (my |a |the |this )?(reply|response|message) (to|in) (the )?(channel|thread|conversation|dm|#)/i,
  /^\s*[([]?\s*(posting|replying|sending|responding) (this |my reply |my response )?(in|to) (#\S+|the (channel|thread|conversation))/im,
  /\b(action|actions) (completed|executed|applied) successfully\b/i,
  /\bI will now (post|send|reply)\b|\bnow I('ll| will) (post|send|reply)\b/i
]

export const chainOfThoughtRules: RegExp[] = [
  /<\/?(thinking|think|reasoning|scratchpad|inner_monologue)>/i,
  /\bthe user (wants|is asking|asked|would like|needs|is requesting|expects) me\b/i,
  /^\s*(okay|ok|alright|so|hmm)[,.]?\s+(so,?\s+)?the user (is asking|wants|asked|would like|needs|is requesting)\b/im,
  /\b(the|my) (context packet|system prompt|instructions)\b.{0,40}\b(says|say|shows|show|contains|tells me|indicates|require)/i,
  /\bI should (respond|reply|answer|post) (with|by)\b/i,
  /\bI (need|have) to (respond|reply) to (this|the (user|message|mention|ping|dm))\b/i,
  /^\s*let me (think( this through)? step by step|analy[sz]e (the|this) (request|messages|inbox|context|packet))\b/im,
  /\b(looking at|based on|according to) (the|my) (inbox|context packet|packet|system prompt)\b/i
]

/** Runaway repetition: the same line (or sentence) of 20+ characters three or more times. */
export const REPEAT_MIN_CHARS = 20
export const REPEAT_MAX = 2
