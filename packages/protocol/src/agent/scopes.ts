import type { AgentActionType } from './actions.js'

// What an agent's `scopes` let it do (CONTEXT.md "Scopes"). The executor, the packet builder and
// the agent REST API all read this one table; nothing else decides what a scope means.

/** Reading conversations: context packets (inbox, thread) and the agent API's reads. */
export const READ_SCOPE = 'channels.read'
/** Speaking in conversations. */
export const REPLY_SCOPE = 'channels.reply'
/** Writing on boards. */
export const TASKS_SCOPE = 'tasks.write'
/** Every action, no approval needed. */
export const ALL_SCOPES = '*'
/** What an agent provisioned with no scopes may do: read and reply, as the seed's agents expect. */
export const DEFAULT_SCOPES: readonly string[] = [READ_SCOPE, REPLY_SCOPE]
/**
 * Scopes that opt an agent into a trigger rather than grant an action (`ambient`: quiet-channel
 * wakes). They do not count when deciding whether an agent has "no scopes": ["ambient"] is an
 * agent with the defaults that also wants ambient wakes.
 */
export const TRIGGER_SCOPES: readonly string[] = ['ambient']

/** Action names the table covers: the allowlist plus the seed agents' memory and tool actions. */
export type ScopedActionType = AgentActionType | 'delete_memory' | 'memory_append' | 'memory_rethink' | 'call_tool'

/**
 * The scope each action needs; null = none. Memory actions touch only the agent's own memory,
 * `call_tool` is recorded and never executed, and `request_approval` is the escape hatch an
 * agent uses when it lacks a scope, so it must never itself wait for an approval.
 */
export const actionScopes: Readonly<Record<ScopedActionType, string | null>> = {
  post_message: REPLY_SCOPE,
  react: REPLY_SCOPE,
  open_thread: REPLY_SCOPE,
  share_files: REPLY_SCOPE,
  create_task: TASKS_SCOPE,
  update_task: TASKS_SCOPE,
  assign_task: TASKS_SCOPE,
  task_comment: TASKS_SCOPE,
  share_to_task: TASKS_SCOPE,
  request_approval: null,
  set_memory: null,
  delete_memory: null,
  memory_append: null,
  memory_rethink: null,
  call_tool: null
}

/** The scopes an agent actually holds: a list granting nothing (empty, or only trigger opt-ins) means the defaults. */
export function effectiveScopes(scopes: readonly string[]): readonly string[] {
  return scopes.every((s) => TRIGGER_SCOPES.includes(s)) ? [...DEFAULT_SCOPES, ...scopes] : scopes
}

export function hasScope(scopes: readonly string[], needed: string): boolean {
  const held = effectiveScopes(scopes)
  return held.includes(ALL_SCOPES) || held.includes(needed)
}

/**
 * The scope an agent lacks for an action, or null when it may go ahead. An action the table
 * does not know needs `*`: a new action type is closed until someone gives it a row.
 */
export function missingScope(scopes: readonly string[], actionType: string): string | null {
  const needed = Object.hasOwn(actionScopes, actionType) ? actionScopes[actionType as ScopedActionType] : ALL_SCOPES
  return needed === null || hasScope(scopes, needed) ? null : needed
}
