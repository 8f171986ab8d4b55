import { describe, expect, it } from 'vitest'
import { MAX_TRACE_ENTRIES, MAX_TRACE_ENTRY_CHARS, agentUsageSchema, parseAgentReply, validateAction } from './reply.js'

const post = { type: 'post_message', conversation_id: 'c_1', body_md: 'hi' }

describe('parseAgentReply: HEARTBEAT_OK forms are silent', () => {
  const forms: unknown[] = [
    '', '   \n', undefined, null, 'HEARTBEAT_OK', '  HEARTBEAT_OK\n', '"HEARTBEAT_OK"', 'heartbeat_ok',
    '`HEARTBEAT_OK`', '**HEARTBEAT_OK**', 'HEARTBEAT_OK.', '{"status":"HEARTBEAT_OK"}', { status: 'HEARTBEAT_OK' },
    'HEARTBEAT_OK', '<actions>[]</actions>\nHEARTBEAT_OK'
  ]
  for (const f of forms) it(`${JSON.stringify(f)}`, () => expect(parseAgentReply(f)).toEqual({ kind: 'silent' }))
})

describe('parseAgentReply: JSON', () => {
  it('reads actions, trace and usage', () => {
    const usage = { provider: 'openai', model: 'm', inputTokens: 10, outputTokens: 2 }
    const r = parseAgentReply(JSON.stringify({ actions: [post], trace: ['read inbox'], usage }))
    expect(r).toEqual({ kind: 'actions', actions: [post], trace: ['read inbox'], usage })
  })
  it('accepts an already-parsed object', () => {
    expect(parseAgentReply({ actions: [post] })).toEqual({ kind: 'actions', actions: [post] })
  })
  it('reads JSON wrapped in a code fence', () => {
    expect(parseAgentReply('```json\n{"actions":[{"type":"react","message_id":"msg_1","emoji":"👍"}]}\n```'))
      .toMatchObject({ kind: 'actions', actions: [{ type: 'react' }] })
  })
  it('JSON without an actions array does nothing', () => {
    for (const v of ['{"ok":true}', '{}', '[{"type":"react"}]', '42', { reply: 'x' }, { actions: null }]) {
      expect(parseAgentReply(v)).toEqual({ kind: 'silent' })
    }
  })
  it('actions that are not an array do nothing, and say so', () => {
    expect(parseAgentReply('{"actions":"post"}')).toEqual({ kind: 'silent', errors: ['actions must be an array; none were applied'] })
  })
  it('keeps at most 20 actions', () => {
    const r = parseAgentReply({ actions: Array.from({ length: 25 }, () => post) })
    expect(r.kind === 'actions' && r.actions.length).toBe(20)
    expect(r).toMatchObject({ truncated: 5 })
  })
})

describe('parseAgentReply: trace and usage are read on their own', () => {
  const usage = { inputTokens: 10, outputTokens: 2 }
  it('a null usage or trace is absent, with no error', () => {
    expect(parseAgentReply({ actions: [post], usage: null, trace: null })).toEqual({ kind: 'actions', actions: [post] })
  })
  it('trace entries that are not strings are stringified', () => {
    const r = parseAgentReply({ actions: [post], trace: ['read inbox', { tool: 'search', args: { q: 'x' } }, 42, null, true, ['a']] })
    expect(r).toEqual({ kind: 'actions', actions: [post], trace: ['read inbox', '{"tool":"search","args":{"q":"x"}}', '42', 'null', 'true', '["a"]'] })
  })
  it('a trace that is not an array is one entry', () => {
    expect(parseAgentReply({ actions: [post], trace: 'x' })).toMatchObject({ trace: ['x'] })
    expect(parseAgentReply({ actions: [post], trace: { step: 1 } })).toMatchObject({ trace: ['{"step":1}'] })
  })
  it('trace entries and their count are bounded', () => {
    const long = { blob: 'y'.repeat(10_000) }
    const r = parseAgentReply({ actions: [], trace: [long, 'z'.repeat(5000), ...Array.from({ length: MAX_TRACE_ENTRIES + 5 }, () => 't')] })
    expect(r.trace).toHaveLength(MAX_TRACE_ENTRIES)
    expect(r.trace![0]).toHaveLength(MAX_TRACE_ENTRY_CHARS + 1)
    expect(r.trace![0]!.endsWith('…')).toBe(true)
    expect(r.trace![1]).toHaveLength(MAX_TRACE_ENTRY_CHARS + 1)
    expect(r.errors).toEqual(['7 trace entries beyond the limit of 100 were dropped'])
  })
  it('a trace entry nested too deep to stringify is kept as text', () => {
    let deep: unknown = []
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(parseAgentReply({ actions: [post], trace: ['ok', deep] }).trace).toEqual(['ok', '(a trace entry nested too deep to show)'])
  })
  it.each([
    ['floats', { inputTokens: 10.5, outputTokens: 2 }, /inputTokens/],
    ['strings', { inputTokens: '10', outputTokens: '2' }, /inputTokens.*outputTokens/],
    ['missing counts', { provider: 'openai', model: 'm' }, /inputTokens.*outputTokens/],
    ['negative', { inputTokens: -1, outputTokens: 2 }, /inputTokens/],
    ['not an object', 'lots', /\(usage\)/],
    ['more cached than input', { inputTokens: 5, outputTokens: 2, cachedInputTokens: 6 }, /cachedInputTokens/]
  ])('a usage with %s is dropped with the reason; the actions stand', (_, bad, reason) => {
    const r = parseAgentReply(JSON.stringify({ actions: [post], trace: ['t'], usage: bad }))
    expect(r).toMatchObject({ kind: 'actions', actions: [post], trace: ['t'] })
    expect(r.usage).toBeUndefined()
    expect(r.errors).toHaveLength(1)
    expect(r.errors![0]).toMatch(/^usage dropped: /)
    expect(r.errors![0]).toMatch(reason)
  })
  it('a silent reply keeps its trace, usage and errors', () => {
    expect(parseAgentReply({ status: 'HEARTBEAT_OK', trace: [{ thought: 'nothing new' }], usage })).toEqual({ kind: 'silent', trace: ['{"thought":"nothing new"}'], usage })
    expect(parseAgentReply('{"status":"HEARTBEAT_OK","usage":{"inputTokens":1.5}}')).toMatchObject({ kind: 'silent', errors: [expect.stringMatching(/^usage dropped/)] })
  })
  it('a reply with neither status nor actions is silent', () => {
    expect(parseAgentReply({ trace: ['looked around'] })).toEqual({ kind: 'silent', trace: ['looked around'] })
  })
})

describe('agentUsageSchema', () => {
  it('accepts cachedInputTokens, a non-negative integer part of inputTokens', () => {
    const u = { inputTokens: 1000, outputTokens: 10, cachedInputTokens: 800 }
    expect(agentUsageSchema.parse(u)).toEqual(u)
    expect(agentUsageSchema.parse({ inputTokens: 1000, outputTokens: 10, cachedInputTokens: 1000 })).toMatchObject({ cachedInputTokens: 1000 })
    expect(agentUsageSchema.parse({ inputTokens: 1, outputTokens: 1 })).not.toHaveProperty('cachedInputTokens')
  })
  it.each([-1, 1.5, '800', 1001])('refuses cachedInputTokens %j', (cachedInputTokens) => {
    expect(agentUsageSchema.safeParse({ inputTokens: 1000, outputTokens: 10, cachedInputTokens }).success).toBe(false)
  })
})

describe('parseAgentReply: text with <actions>', () => {
  it('reads the block and returns the prose as leftoverText', () => {
    const r = parseAgentReply(`Sure, on it.\n<actions>${JSON.stringify([post])}</actions>\nMore soon.`)
    expect(r).toEqual({ kind: 'actions', actions: [post], leftoverText: 'Sure, on it.\n\nMore soon.' })
  })
  it('reads a fenced array inside the block, and several blocks', () => {
    const r = parseAgentReply(`<actions>\n\`\`\`json\n[${JSON.stringify(post)}]\n\`\`\`\n</actions><ACTIONS>[${JSON.stringify(post)}]</ACTIONS>`)
    expect(r).toEqual({ kind: 'actions', actions: [post, post] })
  })
  it('reports a block that is not JSON and keeps the prose', () => {
    const r = parseAgentReply('Done.<actions>[{type: post}]</actions>')
    expect(r).toMatchObject({ kind: 'actions', actions: [], leftoverText: 'Done.' })
    expect(r.kind === 'actions' && r.errors?.[0]).toMatch(/not valid JSON/)
  })
  it('reports a block that holds an object, not an array', () => {
    expect(parseAgentReply(`<actions>${JSON.stringify(post)}</actions>`)).toMatchObject({ errors: ['<actions> block must hold a JSON array'] })
  })
  it('plain prose is leftover text with no actions', () => {
    expect(parseAgentReply('The launch review is Thursday.')).toEqual({ kind: 'actions', actions: [], leftoverText: 'The launch review is Thursday.' })
  })
  it('caps actions from a block at 20', () => {
    const r = parseAgentReply(`<actions>${JSON.stringify(Array.from({ length: 21 }, () => post))}</actions>`)
    expect(r).toMatchObject({ truncated: 1 })
  })
})

describe('validateAction', () => {
  const valid: unknown[] = [
    post,
    { ...post, reply_to: 'msg_1' },
    { type: 'react', message_id: 'msg_1', emoji: '🙏' },
    { type: 'open_thread', message_id: 'msg_1', body_md: 'thread' },
    { type: 'share_files', conversation_id: 'c_1', files: [{ url: 'https://x/a.pdf' }, { path: '/tmp/b.txt', name: 'b' }] },
    { type: 'create_task', title: 'Ship', status: 'blocked', assignees: ['m_1'], labels: ['x'], due_at: '2026-12-01' },
    { type: 'update_task', task_id: 'task_1', status: 'review', progress: 80 },
    { type: 'assign_task', task_id: 'task_1', member_id: 'm_1' },
    { type: 'task_comment', task_id: 'task_1', body_md: 'note' },
    { type: 'share_to_task', task_id: 'task_1', files: [{ url: 'https://x' }] },
    { type: 'request_approval', scope: 'email', action: 'Send Q3 recap', payload: { to: 'x' } },
    { type: 'set_memory', key: 'launch_briefed', value: true },
    { type: 'set_memory', key: 'k', value: { a: 1 }, scope: 'conversation', scope_id: 'c_1' }
  ]
  for (const a of valid) it(`accepts ${(a as { type: string }).type}`, () => expect(validateAction(a).ok).toBe(true))

  it.each(['comment_on_task', 'add_comment', 'comment'])('normalises alias %s to task_comment', (type) => {
    expect(validateAction({ type, task_id: 'task_1', body_md: 'x' })).toEqual({
      ok: true, action: { type: 'task_comment', task_id: 'task_1', body_md: 'x' }
    })
  })

  const invalid: Array<[unknown, RegExp]> = [
    [{ type: 'send_email', to: 'x' }, /"send_email" is not allowed/],
    [{ conversation_id: 'c_1' }, /no "type"/],
    ['post_message', /JSON object/],
    [null, /JSON object/],
    [{ type: 'post_message', body_md: 'x' }, /post_message: conversation_id/],
    [{ type: 'update_task', task_id: 't', progress: 120 }, /progress/],
    [{ type: 'update_task', task_id: 't', status: 'todo' }, /status/],
    [{ type: 'share_files', conversation_id: 'c', files: [] }, /files/],
    [{ type: 'set_memory', key: 'k', value: 1, scope: 'world' }, /scope/],
    [{ type: 'create_task', title: '' }, /title/]
  ]
  for (const [a, err] of invalid) {
    it(`rejects ${JSON.stringify(a)}`, () => {
      const r = validateAction(a)
      expect(r.ok).toBe(false)
      expect(!r.ok && r.error).toMatch(err)
    })
  }
})
