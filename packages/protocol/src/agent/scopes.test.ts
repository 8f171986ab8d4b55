import { describe, expect, it } from 'vitest'
import { agentActionTypes } from './actions.js'
import { actionScopes, effectiveScopes, hasScope, missingScope } from './scopes.js'

describe('agent scopes', () => {
  it('gives every allowlisted action a row', () => {
    for (const type of agentActionTypes) expect(Object.hasOwn(actionScopes, type), type).toBe(true)
  })

  it('empty scopes mean read and reply', () => {
    expect(effectiveScopes([])).toEqual(['channels.read', 'channels.reply'])
    expect(missingScope([], 'post_message')).toBeNull()
    expect(missingScope([], 'create_task')).toBe('tasks.write')
    expect(hasScope([], 'channels.read')).toBe(true)
  })

  it('trigger opt-ins (ambient) grant nothing and take nothing away', () => {
    expect(effectiveScopes(['ambient'])).toEqual(['channels.read', 'channels.reply', 'ambient'])
    expect(missingScope(['ambient'], 'post_message')).toBeNull()
    expect(missingScope(['ambient', 'channels.read'], 'post_message')).toBe('channels.reply')
  })

  it('a read-only agent needs channels.reply to speak and tasks.write for boards', () => {
    const scopes = ['channels.read']
    for (const t of ['post_message', 'react', 'open_thread', 'share_files']) expect(missingScope(scopes, t)).toBe('channels.reply')
    for (const t of ['create_task', 'update_task', 'assign_task', 'task_comment', 'share_to_task']) expect(missingScope(scopes, t)).toBe('tasks.write')
  })

  it('memory, call_tool and request_approval need no scope, even with none held', () => {
    for (const t of ['set_memory', 'delete_memory', 'memory_append', 'memory_rethink', 'call_tool', 'request_approval']) {
      expect(missingScope(['tasks.write'], t)).toBeNull()
    }
  })

  it('* allows everything; an action missing from the table needs *', () => {
    for (const t of [...agentActionTypes, 'something_new']) expect(missingScope(['*'], t)).toBeNull()
    expect(missingScope(['channels.read', 'channels.reply', 'tasks.write'], 'something_new')).toBe('*')
    expect(hasScope(['channels.reply'], 'channels.read')).toBe(false)
  })
})
