import { describe, expect, it } from 'vitest'
import { agentActionSchema } from './actions.js'

// The seed's field names for the memory and tool actions come out in ours (actions.ts).

describe('seed action variants', () => {
  const parse = (a: unknown) => agentActionSchema.parse(a)

  it('memory_append: key or label; text, content or value, in that order', () => {
    expect(parse({ type: 'memory_append', label: 'notes', content: 'a' })).toEqual({ type: 'memory_append', key: 'notes', text: 'a' })
    expect(parse({ type: 'memory_append', key: 'k', label: 'ignored', value: 'v', text: 't', scope: 'task', scope_id: 't_1' }))
      .toEqual({ type: 'memory_append', key: 'k', text: 't', scope: 'task', scope_id: 't_1' })
    expect(() => parse({ type: 'memory_append', key: 'k', text: 1 })).toThrow()
  })

  it('memory_rethink: value, new_value, new_memory or content; any JSON value', () => {
    expect(parse({ type: 'memory_rethink', label: 'persona', new_memory: 'calm' })).toEqual({ type: 'memory_rethink', key: 'persona', value: 'calm' })
    expect(parse({ type: 'memory_rethink', key: 'k', new_value: { a: 1 } })).toEqual({ type: 'memory_rethink', key: 'k', value: { a: 1 } })
    expect(parse({ type: 'memory_rethink', key: 'k', value: null, content: 'x' })).toEqual({ type: 'memory_rethink', key: 'k', value: null })
  })

  it('call_tool: name or tool; args or arguments', () => {
    expect(parse({ type: 'call_tool', tool: 'search', arguments: { q: 'x' } })).toEqual({ type: 'call_tool', name: 'search', args: { q: 'x' } })
    expect(parse({ type: 'call_tool', name: 'ping' })).toEqual({ type: 'call_tool', name: 'ping', args: null })
    expect(() => parse({ type: 'call_tool', args: {} })).toThrow(/name \(or tool\)/)
  })

  it('bounds keys and scope ids', () => {
    expect(() => parse({ type: 'delete_memory', key: 'k'.repeat(201) })).toThrow()
    expect(() => parse({ type: 'delete_memory', key: 'k', scope: 'task', scope_id: 's'.repeat(201) })).toThrow()
    expect(parse({ type: 'delete_memory', key: 'k' })).toEqual({ type: 'delete_memory', key: 'k' })
  })

  it('keeps post_message attachments so the executor can refuse them', () => {
    expect(parse({ type: 'post_message', conversation_id: 'c', body_md: 'x', attachments: [{ url: 'u' }] })).toMatchObject({ attachments: [{ url: 'u' }] })
  })
})
