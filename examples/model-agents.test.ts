import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { samplePacket } from '@circlechat/agent-sdk'
import { deliver, startAgent } from './lib/child-agent.js'
import type { RunningAgent } from './lib/child-agent.js'

// A local stand-in for both model APIs. It records what it was asked and answers with a canned
// completion holding an <actions> block, so the test sees the agent's whole path: packet →
// prompt → HTTP → model text → parsed actions → webhook reply.
const token = 'cc_0123456789abcdefghijklmnopqrstuv'
const action = { type: 'post_message', conversation_id: 'c_general000000000', body_md: 'The launch review is Thursday at 3pm.' }
let completion = `<actions>${JSON.stringify([action])}</actions>`
const calls: Array<{ path: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }> = []

const llm = createServer((req, res) => {
  let raw = ''
  req.on('data', (c) => (raw += c))
  req.on('end', () => {
    const body = JSON.parse(raw) as Record<string, unknown>
    calls.push({ path: req.url!, headers: req.headers, body })
    res.setHeader('content-type', 'application/json')
    if (req.url === '/v1/chat/completions') {
      return res.end(JSON.stringify({
        id: 'chatcmpl-1', object: 'chat.completion', model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: completion }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 }
      }))
    }
    if (req.url === '/v1/messages') {
      return res.end(JSON.stringify({
        id: 'msg_1', type: 'message', role: 'assistant', model: body.model, stop_reason: 'end_turn',
        content: [{ type: 'text', text: completion }], usage: { input_tokens: 321, output_tokens: 45 }
      }))
    }
    res.statusCode = 404
    res.end('{}')
  })
})
let llmUrl = ''
beforeAll(async () => {
  await new Promise<void>((r) => llm.listen(0, '127.0.0.1', r))
  llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => llm.close(() => r())))

const cases = [
  {
    file: 'openai-agent.ts', path: '/v1/chat/completions', provider: 'openai-compatible',
    env: () => ({ CC_LLM_BASE_URL: `${llmUrl}/v1`, CC_LLM_API_KEY: 'sk-test', CC_LLM_MODEL: 'test-model' }),
    prompt: (b: Record<string, unknown>) => JSON.stringify(b.messages),
    auth: (h: IncomingHttpHeaders) => expect(h.authorization).toBe('Bearer sk-test')
  },
  {
    file: 'anthropic-agent.ts', path: '/v1/messages', provider: 'anthropic',
    env: () => ({ CC_ANTHROPIC_BASE_URL: llmUrl, CC_ANTHROPIC_API_KEY: 'sk-ant-test', CC_ANTHROPIC_MODEL: 'test-model' }),
    prompt: (b: Record<string, unknown>) => `${String(b.system)}\n${JSON.stringify(b.messages)}`,
    auth: (h: IncomingHttpHeaders) => {
      expect(h['x-api-key']).toBe('sk-ant-test')
      expect(h['anthropic-version']).toBe('2023-06-01')
    }
  }
]

describe.each(cases)('$file (real process against a stand-in model API)', (c) => {
  let agent: RunningAgent
  beforeAll(async () => {
    agent = await startAgent(c.file, { CC_TOKEN: token, ...c.env() })
  })
  afterAll(() => agent.stop())

  it('puts the packet into the prompt and answers with the parsed actions', async () => {
    completion = `<actions>${JSON.stringify([action])}</actions>`
    calls.length = 0
    const res = await deliver(agent.url!, samplePacket(), token)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      actions: [action],
      usage: { provider: c.provider, model: 'test-model', inputTokens: 321, outputTokens: 45 }
    })
    expect(calls).toHaveLength(1)
    const call = calls[0]!
    expect(call.path).toBe(c.path)
    expect(call.body.model).toBe('test-model')
    c.auth(call.headers)
    const prompt = c.prompt(call.body)
    expect(prompt).toContain('@echo when is the launch review?')
    expect(prompt).toContain('<actions>')
    expect(prompt).toContain('HEARTBEAT_OK')
  })

  it('stays silent when the model says HEARTBEAT_OK', async () => {
    completion = 'HEARTBEAT_OK'
    const res = await deliver(agent.url!, samplePacket({ trigger: 'scheduled' }), token)
    expect(await res.json()).toEqual({ status: 'HEARTBEAT_OK' })
  })

  it('drops an action outside the allowlist and says so in the trace', async () => {
    completion = `<actions>${JSON.stringify([action, { type: 'send_email', to: 'x' }])}</actions>`
    const res = await deliver(agent.url!, samplePacket(), token)
    expect(await res.json()).toMatchObject({ actions: [action], trace: ['dropped: action type "send_email" is not allowed'] })
  })
})
