import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { samplePacket } from '@circlechat/protocol'
import { connectSocketAgent, toSocketUrl } from './socket.js'
import type { SocketAgent } from './socket.js'

// A stand-in for the server side of /agent-socket: checks the bearer token, says hello, and
// hands each connection to the test.
const token = 'cc_0123456789abcdefghijklmnopqrstuv'
const cleanup: Array<() => void> = []
afterEach(() => cleanup.splice(0).forEach((f) => f()))

async function standIn(onConnection: (ws: WebSocket, n: number) => void): Promise<string> {
  const http = createServer()
  const wss = new WebSocketServer({ server: http, path: '/agent-socket' })
  let n = 0
  wss.on('connection', (ws, req) => {
    if (req.headers.authorization !== `Bearer ${token}`) return ws.close(4401, 'bad token')
    ws.send(JSON.stringify({ type: 'hello', agentId: 'a_1', handle: 'echo' }))
    onConnection(ws, ++n)
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  cleanup.push(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    http.close()
  })
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))))
}

function track(agent: SocketAgent): SocketAgent {
  cleanup.unshift(() => agent.close())
  return agent
}

describe('connectSocketAgent', () => {
  it('maps a server base to the /agent-socket URL', () => {
    expect(toSocketUrl('http://x:8080')).toBe('ws://x:8080/agent-socket')
    expect(toSocketUrl('https://x/')).toBe('wss://x/agent-socket')
    expect(toSocketUrl('ws://x/custom')).toBe('ws://x/custom')
  })

  it('answers each dispatch with the same correlation id', async () => {
    const replies: Array<Record<string, unknown>> = []
    const done = new Promise<void>((resolve) => {
      void standIn(async (ws) => {
        ws.send(JSON.stringify({ type: 'event', correlation_id: 'c1', packet: samplePacket() }))
        replies.push(await nextMessage(ws))
        ws.send(JSON.stringify({ type: 'heartbeat', correlation_id: 'c2', packet: samplePacket({ trigger: 'scheduled' }) }))
        replies.push(await nextMessage(ws))
        resolve()
      }).then((url) => {
        let hello: unknown
        track(connectSocketAgent({
          url, token,
          onHello: (h) => (hello = h),
          onPacket: (p, ctx) => {
            expect(hello).toEqual({ type: 'hello', agentId: 'a_1', handle: 'echo' })
            return p.trigger === 'mention' && ctx.kind === 'event' ? { actions: [{ type: 'react', message_id: 'm', emoji: '👍' }] } : 'HEARTBEAT_OK'
          }
        }))
      })
    })
    await done
    expect(replies).toEqual([
      { type: 'reply', correlation_id: 'c1', actions: [{ type: 'react', message_id: 'm', emoji: '👍' }] },
      { type: 'reply', correlation_id: 'c2', status: 'HEARTBEAT_OK' }
    ])
  })

  it('replies with a trace when the handler throws, so the run does not hang', async () => {
    let reply: Promise<Record<string, unknown>> | undefined
    const url = await standIn((ws) => {
      reply = nextMessage(ws)
      ws.send(JSON.stringify({ type: 'event', correlation_id: 'c9', packet: samplePacket() }))
    })
    track(connectSocketAgent({ url, token, onPacket: () => { throw new Error('boom') }, onError: () => {} }))
    await expect.poll(() => reply).toBeDefined()
    expect(await reply).toEqual({ type: 'reply', correlation_id: 'c9', actions: [], trace: ['agent error: boom'] })
  })

  it('reconnects after the connection drops', async () => {
    const url = await standIn((ws, n) => {
      if (n === 1) setTimeout(() => ws.terminate(), 20)
    })
    let hellos = 0
    track(connectSocketAgent({ url, token, onPacket: () => 'HEARTBEAT_OK', onHello: () => hellos++, minBackoffMs: 10 }))
    await expect.poll(() => hellos, { timeout: 3000 }).toBe(2)
  })

  it('stops on a refused token instead of retrying', async () => {
    let connections = 0
    const url = await standIn(() => connections++)
    const errors: string[] = []
    const agent = track(connectSocketAgent({ url, token: 'cc_wrong', onPacket: () => 'HEARTBEAT_OK', onError: (e) => errors.push(e.message), minBackoffMs: 10 }))
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toMatch(/4401/)
    await new Promise((r) => setTimeout(r, 100))
    expect(errors.length).toBe(1)
    expect(agent.connected).toBe(false)
  })
})
