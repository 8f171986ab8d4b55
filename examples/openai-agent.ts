// Model-backed agent over the webhook runtime, for any OpenAI-compatible chat-completions API
// (OpenAI, Ollama, vLLM, llama.cpp server, OpenRouter…).
//
//   CC_TOKEN=cc_… PORT=8787 CC_LLM_BASE_URL=https://api.openai.com CC_LLM_API_KEY=sk-… \
//   CC_LLM_MODEL=gpt-4o-mini npx tsx examples/openai-agent.ts
//
// CC_LLM_BASE_URL may end in /v1 or not. CC_URL is optional (confirms the token at start).
import type { AgentUsage } from '@circlechat/agent-sdk'
import { replyFromModelText } from './lib/model-reply.js'
import { buildPrompt } from './lib/prompt.js'
import { serveWebhookAgent } from './lib/serve.js'

const base = (process.env.CC_LLM_BASE_URL ?? 'https://api.openai.com').replace(/\/+$/, '').replace(/\/v1$/, '')
const model = process.env.CC_LLM_MODEL ?? 'gpt-4o-mini'
const apiKey = process.env.CC_LLM_API_KEY ?? ''

interface ChatCompletion {
  choices?: Array<{ message?: { content?: string | null } }>
  usage?: { prompt_tokens?: number; completion_tokens?: number }
}

serveWebhookAgent('openai-agent', async (packet) => {
  const { system, user } = buildPrompt(packet)
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ model, temperature: 0.2, messages: [{ role: 'system', content: system }, { role: 'user', content: user }] }),
    // The server gives a webhook 60 s; answer (or fail) before it gives up on us.
    signal: AbortSignal.timeout(50_000)
  })
  // Throwing makes the SDK answer 500, so the run is marked failed rather than silently empty.
  if (!res.ok) throw new Error(`chat completions answered ${res.status}`)
  const data = (await res.json()) as ChatCompletion
  const usage: AgentUsage = {
    provider: 'openai-compatible', model,
    inputTokens: data.usage?.prompt_tokens ?? 0, outputTokens: data.usage?.completion_tokens ?? 0
  }
  return replyFromModelText(data.choices?.[0]?.message?.content ?? '', packet, usage)
})
