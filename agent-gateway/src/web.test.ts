import { createHash } from 'node:crypto'
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib'
import { request } from 'node:http'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer } from './test/harness.js'
import { inlineScriptHashes, webAppCsp } from './middleware/security-headers.js'

// Security headers on the web shell and the API, against a real server serving a small build
// laid out like SvelteKit's adapter-static output (200.html with an inline bootstrap script).

const BOOT = `\n\t\t\t\t{\n\t\t\t\t\t__sveltekit_x = { base: "" };\n\t\t\t\t\timport("/_app/start.js")\n\t\t\t\t}\n\t\t\t`
const SHELL = `<!doctype html><html><head><script type="module" src="/_app/start.js"></script></head><body><div><script>${BOOT}</script></div></body></html>`
const APP_JS = `export const big = ${JSON.stringify('x'.repeat(20_000))}\n`
const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`

const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]))

describe('security headers', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let webRoot: string

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'cc-web-'))
    await mkdir(join(webRoot, '_app'))
    await writeFile(join(webRoot, '200.html'), SHELL)
    await writeFile(join(webRoot, '_app', 'start.js'), 'export const x = 1\n')
    await writeFile(join(webRoot, 'sw.js'), 'self.addEventListener("fetch", () => {})\n')
    // Laid out as adapter-static's precompress writes it: the file, then .br and .gz beside it.
    await mkdir(join(webRoot, '_app', 'immutable'))
    await writeFile(join(webRoot, '_app', 'immutable', 'app.abc123.js'), APP_JS)
    await writeFile(join(webRoot, '_app', 'immutable', 'app.abc123.js.br'), brotliCompressSync(APP_JS))
    await writeFile(join(webRoot, '_app', 'immutable', 'app.abc123.js.gz'), gzipSync(APP_JS))
    server = await startTestServer({ webRoot })
  })
  afterAll(async () => {
    await server.close()
    await rm(webRoot, { recursive: true, force: true })
  })

  it('hashes exactly the inline scripts, not external ones', () => {
    expect(inlineScriptHashes(SHELL)).toEqual([sha(BOOT)])
    expect(inlineScriptHashes('<script src="/a.js"></script><script>a()</script><SCRIPT defer>b()</SCRIPT>')).toEqual([sha('a()'), sha('b()')])
  })

  it('the shell: a CSP allowing only its own bootstrap script inline, no framing, workers from self', async () => {
    for (const path of ['/', '/invite/abc', '/200.html', '/some/deep/link.html']) {
      const res = await fetch(server.url + path)
      expect(res.status, path).toBe(200)
      expect(await res.text()).toBe(SHELL)
      const csp = directives(res.headers.get('content-security-policy') ?? '')
      expect(csp.get('script-src')).toEqual(["'self'", sha(BOOT)])
      expect(csp.get('script-src')).not.toContain("'unsafe-inline'")
      expect(csp.get('worker-src')).toEqual(["'self'"])
      expect(csp.get('frame-ancestors')).toEqual(["'none'"])
      expect(csp.get('object-src')).toEqual(["'none'"])
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('referrer-policy')).toBe('same-origin')
    }
  })

  /** Raw bytes and headers as sent, without fetch's transparent decompression. */
  const raw = (path: string, acceptEncoding: string) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(server.url + path, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })

  it('hashed build files go out precompressed and cached for good; the shell and other files are revalidated', async () => {
    const br = await raw('/_app/immutable/app.abc123.js', 'gzip, deflate, br')
    expect(br.status).toBe(200)
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers['vary']).toMatch(/accept-encoding/i)
    expect(br.headers['content-type']).toMatch(/javascript/)
    expect(br.body.length).toBeLessThan(APP_JS.length / 10)
    expect(brotliDecompressSync(br.body).toString()).toBe(APP_JS)
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await raw('/_app/immutable/app.abc123.js', 'gzip')).headers['content-encoding']).toBe('gzip')
    const plain = await raw('/_app/immutable/app.abc123.js', 'identity')
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.toString()).toBe(APP_JS)

    for (const path of ['/sw.js', '/_app/start.js', '/', '/c/some-channel']) expect((await raw(path, 'br')).headers['cache-control'], path).toBe('no-cache')
    // A miss is never remembered, least of all as an immutable file.
    expect((await raw('/_app/immutable/gone.js', 'br')).headers['cache-control']).toBe('no-store')
  })

  it('a missing asset is a 404, never the shell served as HTML', async () => {
    for (const path of ['/_app/immutable/entry/gone.js', '/missing.css', '/icons/none.png']) {
      const res = await fetch(server.url + path)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toBe(SHELL)
    }
  })

  it('static files carry nosniff and the page policy (the service worker runs under its own)', async () => {
    for (const path of ['/_app/start.js', '/sw.js']) {
      const res = await fetch(server.url + path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/javascript/)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('referrer-policy')).toBe('same-origin')
      expect(res.headers.get('content-security-policy')).toBe(webAppCsp())
    }
  })

  it('API responses, errors included: nosniff, same-origin referrer, nothing may load or frame them', async () => {
    for (const [path, status] of [['/health', 200], ['/api/me', 401], ['/api/nope', 404], ['/api/agents', 401]] as const) {
      const res = await fetch(server.url + path)
      expect(res.status, path).toBe(status)
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin')
      expect(res.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'")
    }
    const bad = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: '{' })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('x-content-type-options')).toBe('nosniff')
  })
})
