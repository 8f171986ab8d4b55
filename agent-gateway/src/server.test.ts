import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Client, signupAdmin, startTestServer } from './test/harness.js'

/** Opens a WebSocket and resolves with 'open' or the HTTP status / error that refused it. */
function tryConnect(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => {
      ws.close()
      resolve('open')
    })
    ws.on('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode))
      ws.terminate()
    })
    ws.on('error', (err) => resolve(`error:${(err as NodeJS.ErrnoException).code ?? err.message}`))
  })
}

describe('one-process server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let webRoot: string
  let ada: Awaited<ReturnType<typeof signupAdmin>>

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'cc-web-'))
    await mkdir(join(webRoot, '_app'))
    await writeFile(join(webRoot, '200.html'), '<!doctype html><title>CircleChat shell</title>')
    await writeFile(join(webRoot, '_app', 'app.js'), 'console.log("app")')
    server = await startTestServer({ webRoot })
    ada = await signupAdmin(server.url)
  })
  afterAll(async () => {
    await server.close()
    await rm(webRoot, { recursive: true, force: true })
  })

  it('serves build files as they are', async () => {
    const res = await fetch(`${server.url}/_app/app.js`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('console.log("app")')
  })

  it('answers client routes with the 200.html fallback page', async () => {
    for (const path of ['/', '/invite/sometoken', '/acme/c/c_aaaaaaaaaaaaaaaa']) {
      const res = await fetch(server.url + path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/text\/html/)
      expect(await res.text()).toContain('CircleChat shell')
    }
  })

  it('keeps /api and /health out of the fallback', async () => {
    expect((await new Client(server.url).get('/api/unknown')).body.error).toBe('not_found')
    expect((await new Client(server.url).get('/health')).body).toEqual({ ok: true })
  })

  it('answers every request with an X-Request-Id: the one given if well-formed, else a new one', async () => {
    const id = async (given?: string) => (await fetch(`${server.url}/health`, { headers: given === undefined ? {} : { 'x-request-id': given } })).headers.get('x-request-id')
    expect(await id()).toMatch(/^[0-9a-f-]{36}$/)
    expect(await id('trace-7=ok_1')).toBe('trace-7=ok_1')
    expect(await id('no spaces')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await id('x'.repeat(256))).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('routes /sync upgrades to the relay, authenticated by the same session cookie', async () => {
    const wsBase = server.url.replace(/^http/, 'ws')
    const me = `${wsBase}/sync/me:${ada.member.id}`
    expect(await tryConnect(me, { cookie: `cc_session=${ada.client.cookie}` })).toBe('open')
    expect(await tryConnect(me)).toBe('401')
    expect(await tryConnect(`${wsBase}/sync/me:m_aaaaaaaaaaaaaaaa`, { cookie: `cc_session=${ada.client.cookie}` })).toBe('403')
  })

  it('refuses a cookie upgrade from a foreign Origin (cross-site WebSocket hijacking)', async () => {
    const me = `${server.url.replace(/^http/, 'ws')}/sync/me:${ada.member.id}`
    const cookie = `cc_session=${ada.client.cookie}`
    expect(await tryConnect(me, { cookie, origin: 'https://evil.example' })).toBe('401')
    expect(await tryConnect(me, { cookie, origin: server.url })).toBe('open')
  })

  it('drops upgrades to unknown paths', async () => {
    const result = await tryConnect(`${server.url.replace(/^http/, 'ws')}/elsewhere`)
    expect(result).toMatch(/^error:/)
  })

  it('close() is idempotent', async () => {
    const other = await startTestServer()
    await Promise.all([other.close(), other.close()])
  })
})

describe('behind https', () => {
  it('marks the session cookie Secure and accepts the public origin', async () => {
    const server = await startTestServer({ publicBaseUrl: 'https://chat.example.com/' })
    try {
      const c = new Client(server.url, { origin: 'https://chat.example.com' })
      const res = await c.post('/api/auth/signup', { email: 'a@example.com', password: 'long enough pw', name: 'A', handle: 'aa', workspaceName: 'W' })
      expect(res.status).toBe(201)
      expect(res.headers.get('set-cookie')).toMatch(/; Secure/)
      const inv = await c.post('/api/auth/invite', { email: 'b@example.com' })
      expect(inv.body.url).toBe(`https://chat.example.com/invite/${inv.body.token}`)
    } finally {
      await server.close()
    }
  })
})

describe('without a web build', () => {
  it('says how to build it instead of a blank 404', async () => {
    const server = await startTestServer({ webRoot: join(tmpdir(), 'cc-missing-build-dir') })
    try {
      const res = await fetch(`${server.url}/invite/x`)
      expect(res.status).toBe(503)
      expect(await res.text()).toMatch(/pnpm build/)
    } finally {
      await server.close()
    }
  })
})
