// Model-backed agent over the webhook runtime, using the Anthropic Messages API.
//
//   CC_TOKEN=cc_… PORT=8787 CC_ANTHROPIC_API_KEY=sk-ant-… CC_ANTHROPIC_MODEL=claude-sonnet-4-5 \
//   npx tsx examples/anthropic-agent.ts
//
// CC_ANTHROPIC_BASE_URL defaults to https://api.anthropic.com. CC_URL is optional (confirms the token).
import type { AgentUsage } from '@circlechat/agent-sdk'
import { replyFromModelText } from './lib/model-reply.js'
import { buildPrompt } from './lib/prompt.js'
import { serveWebhookAgent } from './lib/serve.js'

const base = (process.env.CC_ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com').replace(/\/+$/, '')
const model = process.env.CC_ANTHROPIC_MODEL ?? 'claude-sonnet-4-5'
const apiKey = process.env.CC_ANTHROPIC_API_KEY ?? ''

interface MessagesResponse {
  content?: Array<{ type: string; text?: string }>
  usage?: { input_tokens?: number; output_tokens?: number }
}

serveWebhookAgent('anthropic-agent', async (packet) => {
  const { system, user } = buildPrompt(packet)
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model, max_tokens: 1024, system, messages: [{ role: 'user', content: user }] }),
    // The server gives a webhook 60 s; answer (or fail) before it gives up on us.
    signal: AbortSignal.timeout(50_000)
  })
  if (!res.ok) throw new Error(`messages API answered ${res.status}`)
  const data = (await res.json()) as MessagesResponse
  const text = (data.content ?? []).filter((b) => b.type === 'text').map((b) => b.text ?? '').join('')
  const usage: AgentUsage = {
    provider: 'anthropic', model,
    inputTokens: data.usage?.input_tokens ?? 0, outputTokens: data.usage?.output_tokens ?? 0
  }
  return replyFromModelText(text, packet, usage)
})
