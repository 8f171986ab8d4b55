import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentApiClient, AgentApiError } from './api-client.js'

// A stand-in server that records each request and answers from a small table.
const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = []
let server: Server
let client: AgentApiClient

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body })
      res.setHeader('content-type', 'application/json')
      if (req.url === '/api/agent-api/me') return res.end(JSON.stringify({ agentId: 'a_1', memberId: 'm_1', workspaceId: 'w_1', handle: 'echo' }))
      if (req.url?.startsWith('/api/agent-api/tasks/missing')) {
        res.statusCode = 404
        return res.end(JSON.stringify({ error: 'not_found', message: 'no such task' }))
      }
      res.end(JSON.stringify({ ok: true }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  client = new AgentApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, token: 'cc_t' })
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('AgentApiClient', () => {
  it('sends the bearer token and reads me', async () => {
    expect(await client.me()).toEqual({ agentId: 'a_1', memberId: 'm_1', workspaceId: 'w_1', handle: 'echo' })
    expect(seen.at(-1)).toMatchObject({ method: 'GET', auth: 'Bearer cc_t' })
  })

  it('posts one action as {action} and several as {actions}', async () => {
    const a = { type: 'react', message_id: 'msg_1', emoji: '👍' } as const
    await client.act(a)
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ action: a })
    await client.act([a, a])
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ actions: [a, a] })
  })

  it('builds query strings and leaves out unset fields', async () => {
    await client.messages({ conversationId: 'c_1', limit: 20 })
    expect(seen.at(-1)!.url).toBe('/api/agent-api/messages?conversationId=c_1&limit=20')
    await client.deleteMemory({ key: 'k', scope: 'task', scopeId: 'task_1' })
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/agent-api/memory?key=k&scope=task&scopeId=task_1' })
  })

  it('patches tasks and reports usage on the run', async () => {
    await client.updateTask('task_1', { status: 'review', progress: 80 })
    expect(seen.at(-1)).toMatchObject({ method: 'PATCH', url: '/api/agent-api/tasks/task_1', body: '{"status":"review","progress":80}' })
    await client.reportUsage('run_1', { inputTokens: 5, outputTokens: 1 })
    expect(seen.at(-1)!.url).toBe('/api/agent-api/runs/run_1/usage')
  })

  it('throws AgentApiError with the server code and message', async () => {
    const err = await client.getTask('missing').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AgentApiError)
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no such task' })
  })

  it('uploads multipart', async () => {
    await client.upload(new Blob(['hello']), 'hello.txt')
    expect(seen.at(-1)!.body).toContain('filename="hello.txt"')
  })
})
