import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { agentPacketSchema, samplePacket } from '@circlechat/agent-sdk'
import type { AgentPacket } from '@circlechat/agent-sdk'
import { startAgent } from './lib/child-agent.js'
import type { RunningAgent } from './lib/child-agent.js'

// A stand-in for the gateway's /agent-socket: checks the token, says hello, then dispatches.
const token = 'cc_0123456789abcdefghijklmnopqrstuv'
const http = createServer()
const wss = new WebSocketServer({ server: http, path: '/agent-socket' })
let socket: Promise<WebSocket>
let agent: RunningAgent

beforeAll(async () => {
  socket = new Promise((resolve) => {
    wss.on('connection', (ws, req) => {
      if (req.headers.authorization !== `Bearer ${token}`) return ws.close(4401, 'bad token')
      ws.send(JSON.stringify({ type: 'hello', agentId: 'a_sample0000000000', handle: 'echo' }))
      resolve(ws)
    })
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  agent = await startAgent('socket-agent.ts', { CC_TOKEN: token, CC_URL: url }, /connected as @(\S+)/)
})
afterAll(async () => {
  await agent?.stop()
  wss.close()
  http.close()
})

let n = 0
async function dispatch(type: 'heartbeat' | 'event', packet: AgentPacket): Promise<unknown> {
  agentPacketSchema.parse(packet)
  const ws = await socket
  const correlation_id = `corr_${++n}`
  const reply = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))))
  ws.send(JSON.stringify({ correlation_id, type, packet }))
  return reply
}

describe('socket-agent.ts (real process, real WebSocket)', () => {
  it('says who it is once the server says hello', () => expect(agent.output()).toContain('connected as @echo (a_sample0000000000)'))

  it('answers a mention with an echo under the same correlation id', async () => {
    expect(await dispatch('event', samplePacket())).toEqual({
      type: 'reply',
      correlation_id: `corr_${n}`,
      actions: [{ type: 'post_message', conversation_id: 'c_general000000000', body_md: 'Got it — you said: _when is the launch review?_' }]
    })
  })

  it('answers a heartbeat with HEARTBEAT_OK', async () => {
    expect(await dispatch('heartbeat', samplePacket({ trigger: 'scheduled' }))).toEqual({ type: 'reply', correlation_id: `corr_${n}`, status: 'HEARTBEAT_OK' })
  })
})
