import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { agentPacketSchema, samplePacket } from '@circlechat/protocol'
import type { PacketHandler } from './handler.js'
import { signBody } from './signature.js'
import { createWebhookHandler } from './webhook.js'

const token = 'cc_0123456789abcdefghijklmnopqrstuv'
let server: Server | undefined
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

async function start(handler: PacketHandler, opts: { token?: string } = { token }): Promise<string> {
  server = createServer(createWebhookHandler(handler, opts))
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
}

describe('createWebhookHandler', () => {
  const packet = samplePacket()
  const body = JSON.stringify(packet)

  it('the test packet is a valid packet', () => expect(agentPacketSchema.safeParse(packet).success).toBe(true))

  it('passes a signed /event packet to the handler and answers with its actions', async () => {
    let seen: unknown
    const url = await start((p, ctx) => {
      seen = { trigger: p.trigger, ...ctx }
      return { actions: [{ type: 'react', message_id: 'msg_1', emoji: '👀' }] }
    })
    const res = await post(`${url}/event`, body, { 'x-cc-signature': signBody(body, token), 'x-cc-run': 'run_1', 'x-cc-agent': 'a_1' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ actions: [{ type: 'react', message_id: 'msg_1', emoji: '👀' }] })
    expect(seen).toEqual({ trigger: 'mention', kind: 'event', runId: 'run_1', agentId: 'a_1' })
  })

  it('answers HEARTBEAT_OK on /heartbeat when the handler returns nothing', async () => {
    const url = await start(() => undefined)
    const res = await post(`${url}/heartbeat`, body, { 'x-cc-signature': signBody(body, token) })
    expect(await res.json()).toEqual({ status: 'HEARTBEAT_OK' })
  })

  it('refuses a missing or wrong signature', async () => {
    const url = await start(() => 'HEARTBEAT_OK')
    expect((await post(`${url}/event`, body)).status).toBe(401)
    expect((await post(`${url}/event`, body, { 'x-cc-signature': signBody(body, 'cc_other') })).status).toBe(401)
    expect((await post(`${url}/event`, `${body} `, { 'x-cc-signature': signBody(body, token) })).status).toBe(401)
  })

  it('skips the signature check without a token', async () => {
    const url = await start(() => 'HEARTBEAT_OK', {})
    expect((await post(`${url}/event`, body)).status).toBe(200)
  })

  it('rejects other paths, other methods and bad JSON', async () => {
    const url = await start(() => 'HEARTBEAT_OK', {})
    expect((await post(`${url}/other`, body)).status).toBe(404)
    expect((await fetch(`${url}/event`)).status).toBe(405)
    expect((await post(`${url}/event`, '{nope')).status).toBe(400)
  })

  it('turns a handler failure into a 500 the server records', async () => {
    const url = await start(() => {
      throw new Error('model down')
    }, {})
    const res = await post(`${url}/event`, body)
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ message: 'model down' })
  })
})
