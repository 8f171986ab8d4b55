import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import { appendMessage, docName, listMessages } from '@circlechat/model'
import { closeCode } from '@circlechat/protocol'
import { TOO_SLOW_REASON } from '../src/index.js'
import { startHarness, synced, until, type Harness } from './harness.js'

// Per-socket health on /sync: a client that stops reading is closed once its send buffer passes
// the limit (instead of the server buffering for it without bound), and one that stops
// answering pings is terminated. Real sockets on loopback; the limits are shortened by config.

let h: Harness | null = null
afterEach(async () => {
  await h?.close()
  h = null
})

const tcpOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket

function rawSocket(url: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, opts)
  const seen = { bytes: 0, pings: 0, close: null as null | { code: number; reason: string } }
  ws.on('message', (data: Buffer) => (seen.bytes += data.byteLength))
  ws.on('ping', () => seen.pings++)
  ws.on('close', (code, reason) => (seen.close = { code, reason: reason.toString() }))
  ws.on('error', () => {})
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  return { ws, seen, open }
}

describe('sync socket health', () => {
  it('closes a client that never reads with tooSlow, while a reading client gets every message', async () => {
    const limit = 256 * 1024
    h = await startHarness({ config: { maxBufferedBytes: limit } })
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const name = docName.conv(conv, 0)
    const reader = h.connect(name, alice.token)
    await synced(reader)
    const stuck = rawSocket(`${h.url}/${name}?token=${bob.token}`)
    await stuck.open
    tcpOf(stuck.ws).pause() // the client process stops reading its socket

    // 300 messages of ~40,000 characters (~12 MB), posted server-side as REST and agents post.
    const N = 300
    for (let i = 0; i < N; i++) {
      await h.sync.transact(name, { source: 'server', reason: 'test' }, (doc) => appendMessage(doc, { author: alice.memberId, body: `${i} ${'x'.repeat(39_990)}` }))
    }
    await until(() => listMessages(reader.doc).length === N, 20_000, 'the reading client to get every message')
    expect(reader.wsconnected).toBe(true)

    // The stuck client, reading again, finds what was buffered for it and then the close.
    tcpOf(stuck.ws).resume()
    await until(() => stuck.seen.close !== null, 20_000, 'the close frame')
    expect(stuck.seen.close).toEqual({ code: closeCode.tooSlow, reason: TOO_SLOW_REASON })
    expect(stuck.seen.bytes).toBeLessThan(N * 40_000) // it was cut off, not sent everything
  })

  it('terminates a client that stops answering pings; one that answers stays', async () => {
    h = await startHarness({ config: { pingIntervalMs: 40, missedPongLimit: 2 } })
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    const url = `${h.url}/${docName.conv(conv, 0)}?token=${alice.token}`
    const silent = rawSocket(url, { autoPong: false })
    const lively = rawSocket(url)
    await Promise.all([silent.open, lively.open])

    await until(() => silent.seen.close !== null, 10_000, 'the silent client to be terminated')
    expect(silent.seen.close!.code).toBe(1006) // terminated: no close frame
    expect(silent.seen.pings).toBeGreaterThanOrEqual(2)
    // The answering client has been pinged many times since and is still open.
    const pingsThen = lively.seen.pings
    await until(() => lively.seen.pings >= pingsThen + 6, 10_000, 'more pings')
    expect(lively.seen.close).toBeNull()
    expect(lively.ws.readyState).toBe(WebSocket.OPEN)
    lively.ws.close()
  })
})
