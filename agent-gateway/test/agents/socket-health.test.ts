import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import { closeCode, samplePacket } from '@circlechat/protocol'
import { TOO_SLOW_REASON } from '@circlechat/sync-server'
import { provision, waitFor, world, type World } from './helpers.js'

// /agent-socket health: an agent that stops reading is closed once its send buffer passes the
// limit, and one that stops answering pings is terminated. A real server, real sockets.

let w: World | null = null
afterEach(async () => {
  await w?.server.close()
  w = null
})

const tcpOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket

async function agentSocket(base: string, token: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/agent-socket?token=${token}`, opts)
  const seen = { bytes: 0, pings: 0, close: null as null | { code: number; reason: string } }
  ws.on('ping', () => seen.pings++)
  ws.on('close', (code, reason) => (seen.close = { code, reason: reason.toString() }))
  ws.on('error', () => {})
  await new Promise<void>((resolve) => ws.once('message', () => resolve())) // hello
  ws.on('message', (data: Buffer) => (seen.bytes += data.byteLength))
  return { ws, seen }
}

describe('agent socket health', () => {
  it('closes an agent that never reads with tooSlow and fails its pending runs', async () => {
    w = await world({ sockets: { maxBufferedBytes: 256 * 1024 } })
    const a = await provision(w.ada.client, { name: 'Stuck', handle: 'stuck', adapter: 'socket', channelIds: [w.channelId] })
    const agent = await agentSocket(w.server.url, a.botToken)
    tcpOf(agent.ws).pause()

    // 80 packets of ~200 KB (16 MB): far more than loopback's kernel buffers hold.
    const packet = samplePacket({ agent: { ...samplePacket().agent, brief: 'b'.repeat(200_000) } })
    const settled: string[] = []
    const runs = Array.from({ length: 80 }, () =>
      w!.server.agents.hub.dispatch(a.id, 'event', packet, 20_000).then(() => 'replied', (err: Error) => err.message).then((o) => (settled.push(o), o)))
    // Dispatches after the close are refused at once, without waiting out their timeout.
    await waitFor(() => settled.some((o) => /not reading/.test(o)), 10_000, 'a refused dispatch')

    tcpOf(agent.ws).resume()
    await waitFor(() => agent.seen.close, 20_000, 'the close frame')
    expect(agent.seen.close).toEqual({ code: closeCode.tooSlow, reason: TOO_SLOW_REASON })
    expect(agent.seen.bytes).toBeLessThan(80 * 200_000)
    const outcomes = await Promise.all(runs)
    expect(outcomes.every((o) => o !== 'replied')).toBe(true) // every run failed; none hangs
    expect(w.server.agents.hub.isConnected(a.id)).toBe(false)
  })

  it('terminates an agent that stops answering pings; one that answers stays connected', async () => {
    w = await world({ sockets: { pingIntervalMs: 40, missedPongLimit: 2 } })
    const quiet = await provision(w.ada.client, { name: 'Quiet', handle: 'quiet', adapter: 'socket', channelIds: [w.channelId] })
    const awake = await provision(w.ada.client, { name: 'Awake', handle: 'awake', adapter: 'socket', channelIds: [w.channelId] })
    const silent = await agentSocket(w.server.url, quiet.botToken, { autoPong: false })
    const lively = await agentSocket(w.server.url, awake.botToken)

    await waitFor(() => silent.seen.close, 10_000, 'the silent agent to be terminated')
    expect(silent.seen.close!.code).toBe(1006) // terminated, no close frame
    expect(silent.seen.pings).toBeGreaterThanOrEqual(2)
    await waitFor(() => !w!.server.agents.hub.isConnected(quiet.id), 5_000, 'the hub to drop it')
    const pingsThen = lively.seen.pings
    await waitFor(() => lively.seen.pings >= pingsThen + 6, 10_000, 'more pings')
    expect(lively.seen.close).toBeNull()
    expect(w.server.agents.hub.isConnected(awake.id)).toBe(true)
    lively.ws.close()
  })
})
