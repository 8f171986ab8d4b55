import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { postWebhook } from './webhook-client.js'

describe('postWebhook', () => {
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/' }).end()
        return
      }
      if (req.url === '/slow') return // never answers
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: JSON.parse(body), auth: req.headers.authorization })))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  it('posts the body with the headers and reads the answer', async () => {
    const res = await postWebhook(new URL(`http://127.0.0.1:${port}/event`), { authorization: 'Bearer cc_x', 'content-type': 'application/json' }, '{"a":1}', 5000, true)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ echo: { a: 1 }, auth: 'Bearer cc_x' })
  })

  it('refuses, at connect time, a name that resolves to a private address (DNS rebinding)', async () => {
    await expect(postWebhook(new URL(`http://localhost:${port}/event`), {}, '{}', 5000, false)).rejects.toThrow(/private address/)
  })

  it('does not follow redirects, and gives up after the timeout', async () => {
    expect((await postWebhook(new URL(`http://127.0.0.1:${port}/redirect`), {}, '{}', 5000, true)).status).toBe(302)
    await expect(postWebhook(new URL(`http://127.0.0.1:${port}/slow`), {}, '{}', 300, true)).rejects.toThrow(/timeout: no answer within/)
  })
})
