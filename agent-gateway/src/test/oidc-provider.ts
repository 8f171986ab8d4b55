import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import Provider from 'oidc-provider'

/** A person at the loopback provider: the login form takes their account id. */
export interface ProviderAccount {
  email: string
  emailVerified: boolean
  name?: string
  preferredUsername?: string
}

export interface TestProvider {
  issuer: string
  clientId: string
  clientSecret: string
  accounts: Map<string, ProviderAccount>
  /** Rewrites the ID token of the next token responses (a forged answer); null answers honestly. */
  tamper: ((idToken: string, forge: Forge) => string) | null
  close(): Promise<void>
}

/** Helpers to forge an ID token: re-sign its claims with the provider's key, or with a stranger's. */
export interface Forge {
  claims(idToken: string): Record<string, unknown>
  signWithProviderKey(idToken: string, claims: Record<string, unknown>): string
  signWithOtherKey(idToken: string): string
}

/** An unused loopback port, so the app's redirect URI can be registered before the app starts. */
export async function freePort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`
}

const page = (body: string) =>
  `<!doctype html><html><head><meta name="viewport" content="width=device-width"><title>Test provider</title></head><body>${body}</body></html>`

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  let text = ''
  for await (const chunk of req) text += chunk
  return new URLSearchParams(text)
}

/**
 * A real OpenID Connect provider (oidc-provider) on 127.0.0.1 with one confidential client, a
 * login form at /interaction/<uid> (type an account id; "Cancel" answers access_denied), and
 * consent granted with the login. `tamper` rewrites ID tokens on their way out of /token.
 */
export async function startTestProvider(opts: { redirectUri: string; accounts?: Record<string, ProviderAccount> }): Promise<TestProvider> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' }
  const clientId = 'circlechat'
  const clientSecret = 'a-test-client-secret-of-some-length'
  const accounts = new Map(Object.entries(opts.accounts ?? {}))

  let provider: Provider
  const forge: Forge = {
    claims: (t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()),
    signWithProviderKey: (t, claims) => signJwt(JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()), claims, privateKey),
    signWithOtherKey: (t) => signJwt(JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()), forge.claims(t), other)
  }
  const state: TestProvider = {
    issuer: '', clientId, clientSecret, accounts, tamper: null,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string[]) {
    const details = await provider.interactionDetails(req, res)
    const uid = details.uid
    if (req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(page(`<h1>Test provider</h1><form method="post" action="/interaction/${uid}/login">
        <label>Account <input name="login" autofocus></label> <button type="submit">Sign in</button></form>
        <form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`))
      return
    }
    if (path[1] === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled.' }, { mergeWithLastSubmission: false })
      return
    }
    const login = (await formBody(req)).get('login') ?? ''
    if (!accounts.has(login)) {
      res.statusCode = 400
      res.setHeader('content-type', 'text/html; charset=utf-8')
      res.end(page(`<p>No account ${login.replace(/[^\w.@-]/g, '')}</p>`))
      return
    }
    const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) })
    grant.addOIDCScope(String(details.params.scope))
    const grantId = await grant.save()
    await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false })
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const parts = path.split('/').filter(Boolean)
    if (parts[0] === 'interaction') {
      interaction(req, res, parts.slice(1)).catch((err: unknown) => {
        res.statusCode = 500
        res.end(String(err))
      })
      return
    }
    if (path === '/token' && state.tamper) {
      const tamper = state.tamper
      // koa answers with one res.end(body) after setting content-length: rewrite the body there.
      const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse
      ;(res as { end: unknown }).end = (chunk?: unknown) => {
        const body = JSON.parse(String(chunk ?? '{}')) as { id_token?: string }
        if (body.id_token) body.id_token = tamper(body.id_token, forge)
        const text = JSON.stringify(body)
        res.setHeader('content-length', Buffer.byteLength(text))
        return end(text)
      }
    }
    provider.callback()(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  state.issuer = `http://127.0.0.1:${port}`
  provider = new Provider(state.issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['a-cookie-signing-key-for-tests'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    findAccount: (_ctx, id) => {
      const a = accounts.get(id)
      if (!a) return undefined
      return {
        accountId: id,
        claims: () => ({ sub: id, email: a.email, email_verified: a.emailVerified, name: a.name, preferred_username: a.preferredUsername })
      }
    }
  })
  // oidc-provider logs every refused request through its own debug channel; tests read outcomes instead.
  provider.on('server_error', (_ctx, err) => console.error('test provider error:', err))
  return state
}


/**
 * A browser without a page: follows redirects by hand between the app and the provider, keeping
 * each origin's cookies, and fills the provider's login form. Ends on the first app URL that is
 * not the OIDC callback (`/` after a sign-in, `/login?sso=…` otherwise).
 */
export class RedirectBrowser {
  readonly jar = new Map<string, Map<string, string>>()
  /** The last callback URL the provider sent the browser to (a test replays it). */
  lastCallback: string | null = null

  constructor(readonly appBase: string) {}

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(new URL(origin).origin)?.get(name)
  }

  setCookie(origin: string, name: string, value: string): void {
    const o = new URL(origin).origin
    if (!this.jar.has(o)) this.jar.set(o, new Map())
    this.jar.get(o)!.set(name, value)
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin
    const cookies = [...(this.jar.get(origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookies ? { cookie: cookies } : {}) } })
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (!this.jar.has(origin)) this.jar.set(origin, new Map())
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.jar.get(origin)!.delete(name)
      else this.jar.get(origin)!.set(name, value)
    }
    return res
  }

  /** Follows redirects from `url`; `login` answers the provider's form (null: press Cancel). */
  async follow(url: string, login: string | null): Promise<URL> {
    let next = new URL(url, this.appBase).href
    for (let hops = 0; hops < 20; hops++) {
      if (next.startsWith(this.appBase) && next.includes('/api/auth/oidc/callback')) this.lastCallback = next
      const res = await this.fetch(next)
      const location = res.headers.get('location')
      if (location) {
        next = new URL(location, next).href
        continue
      }
      const at = new URL(next)
      if (at.origin === new URL(this.appBase).origin) return at
      const form = /action="(\/interaction\/[^"]+\/login)"/.exec(await res.text())
      if (!form) throw new Error(`provider page without a login form at ${next} (${res.status})`)
      const action = new URL(form[1]!.replace(/\/login$/, login === null ? '/abort' : '/login'), next).href
      const posted = await this.fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login: login ?? '' }).toString() })
      const to = posted.headers.get('location')
      if (!to) throw new Error(`login form answered ${posted.status}: ${await posted.text()}`)
      next = new URL(to, action).href
    }
    throw new Error('too many redirects')
  }

  /** Starts a sign-in at the app and follows it to its end. */
  signIn(login: string | null): Promise<URL> {
    return this.follow('/api/auth/oidc/start', login)
  }
}
