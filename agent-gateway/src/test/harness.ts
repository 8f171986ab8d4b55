import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer, type StartOptions } from '../server.js'

/** A real server on an ephemeral loopback port over a fresh SQLite file; close() removes both. */
export async function startTestServer(opts: Partial<StartOptions> = {}): Promise<RunningServer & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cc-gateway-'))
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, ...opts })
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export interface Res<T = any> {
  status: number
  body: T
  headers: Headers
}

/** A browser-like client: keeps the session cookie and sends the page's Origin on every request. */
export class Client {
  cookie: string | null = null
  origin: string | null
  bearer: string | null = null

  constructor(readonly base: string, opts: { origin?: string | null } = {}) {
    this.origin = opts.origin === undefined ? base : opts.origin
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers }
    if (this.origin) h.origin = this.origin
    if (this.cookie) h.cookie = `cc_session=${this.cookie}`
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`
    let payload: string | FormData | undefined
    if (typeof body === 'string' || body instanceof FormData) payload = body
    else if (body !== undefined) payload = JSON.stringify(body)
    if (typeof payload === 'string' && !h['content-type']) h['content-type'] = 'application/json'
    const send = () => fetch(this.base + path, { method, headers: h, body: payload })
    // A kept-alive socket the server closed as idle while this request was on its way resets;
    // browsers resend an idempotent request then, and so does this client (GET and HEAD only).
    const res = await send().catch((err: unknown) => {
      if ((method === 'GET' || method === 'HEAD') && (err as { cause?: { code?: string } }).cause?.code === 'ECONNRESET') return send()
      throw err
    })
    const setCookie = res.headers.get('set-cookie')
    const m = setCookie ? /cc_session=([^;]*)/.exec(setCookie) : null
    if (m) this.cookie = m[1] && !/Max-Age=0/i.test(setCookie!) ? m[1] : null
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {}
    return { status: res.status, body: parsed as T, headers: res.headers }
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path)
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {})
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body ?? {})
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path)
  }
  /** A multipart upload of one file part, as a browser's FormData sends it. */
  upload<T = any>(path: string, name: string, bytes: Uint8Array<ArrayBuffer> | string, type = 'application/octet-stream') {
    const form = new FormData()
    form.append('file', new Blob([bytes], { type }), name)
    return this.request<T>('POST', path, form)
  }
}

export const PASSWORD = 'correct horse battery'

/** Signs up the first account (workspace "Acme", admin @ada). */
export async function signupAdmin(base: string) {
  const admin = new Client(base)
  const res = await admin.post('/api/auth/signup', { email: 'ada@example.com', password: PASSWORD, name: 'Ada', handle: 'ada', workspaceName: 'Acme' })
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`)
  return { client: admin, member: res.body.member, workspace: res.body.workspace }
}

/** Invites and accepts a second person through the REST flow. */
export async function addPerson(base: string, admin: Client, handle: string, role: 'admin' | 'member' = 'member') {
  const email = `${handle}@example.com`
  const inv = await admin.post('/api/auth/invite', { email, role })
  if (inv.status !== 200) throw new Error(`invite failed: ${inv.status} ${JSON.stringify(inv.body)}`)
  const client = new Client(base)
  const res = await client.post('/api/auth/accept-invite', { token: inv.body.token, email, name: handle, handle, password: PASSWORD })
  if (res.status !== 201) throw new Error(`accept failed: ${res.status} ${JSON.stringify(res.body)}`)
  return { client, member: res.body.member }
}

/** The cast most route tests start from: a server, its admin Ada, and members Bob and Cy. */
export async function startTeam(opts: Partial<StartOptions> = {}) {
  const server = await startTestServer(opts)
  try {
    const ada = await signupAdmin(server.url)
    const bob = await addPerson(server.url, ada.client, 'bob')
    const cy = await addPerson(server.url, ada.client, 'cy')
    return { server, ada, bob, cy }
  } catch (err) {
    await server.close()
    throw err
  }
}
export type Team = Awaited<ReturnType<typeof startTeam>>
