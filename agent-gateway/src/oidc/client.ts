import type { Configuration } from 'openid-client'
import { isLoopbackUrl, type OidcSettings } from './settings.js'
import type { LoginState } from './pending.js'

/** What the callback learned about the person, after every check passed. */
export interface VerifiedClaims {
  issuer: string
  subject: string
  /** Lowercased; undefined when the provider gave none. */
  email?: string
  emailVerified: boolean
  name?: string
  preferredUsername?: string
}

/** Why an answer was refused, in words the sign-in page has a sentence for (never raw provider text). */
export type RefusalReason = 'issuer' | 'audience' | 'nonce' | 'signature' | 'token'

export class OidcRefused extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message)
  }
}

/** The provider answered the callback with `error=` (the person cancelled, or it refused them). */
export class OidcProviderError extends Error {
  constructor(readonly code: string) {
    super(`provider error ${code}`)
  }
}

/** openid-client loads on the first sign-in: most servers never configure a provider. */
const openidClient = () => import('openid-client')

/**
 * One per gateway (no module state): discovers the provider on first use and keeps its metadata;
 * a failed discovery is retried on the next sign-in rather than cached.
 */
export class OidcClient {
  #config: Promise<Configuration> | null = null

  constructor(readonly settings: OidcSettings, readonly redirectUri: string) {}

  #discover(): Promise<Configuration> {
    this.#config ??= this.#connect().catch((err: unknown) => {
      this.#config = null
      throw err
    })
    return this.#config
  }

  async #connect(): Promise<Configuration> {
    const oidc = await openidClient()
    const config = await oidc.discovery(new URL(this.settings.issuer), this.settings.clientId, undefined, oidc.ClientSecretBasic(this.settings.clientSecret), {
      execute: isLoopbackUrl(this.settings.issuer) ? [oidc.allowInsecureRequests] : [],
      // 10 s: a provider that slow is down; the person gets "unreachable" instead of a hung page.
      timeout: 10
    })
    // Check the ID token's signature against the provider's JWKS too. openid-client skips it
    // for tokens fetched over TLS; we verify always, so a tampered token never passes.
    oidc.enableNonRepudiationChecks(config)
    return config
  }

  /** The provider's authorization URL for a new sign-in, with PKCE (S256) and a nonce. */
  async authorizationUrl(state: string, login: LoginState): Promise<URL> {
    const [oidc, config] = await Promise.all([openidClient(), this.#discover()])
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state,
      nonce: login.nonce
    })
  }

  /** A fresh nonce and PKCE verifier for one sign-in. */
  static async newLogin(): Promise<LoginState> {
    const oidc = await openidClient()
    return { nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() }
  }

  /**
   * Exchanges the callback's code (with the PKCE verifier) and checks the ID token: signature,
   * iss, aud, azp, exp, nonce. Throws OidcProviderError or OidcRefused; never returns unchecked claims.
   */
  async finish(callbackQuery: URLSearchParams, state: string, login: LoginState): Promise<VerifiedClaims> {
    const [oidc, config] = await Promise.all([openidClient(), this.#discover()])
    const current = new URL(this.redirectUri)
    current.search = callbackQuery.toString()
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
    try {
      tokens = await oidc.authorizationCodeGrant(
        config, current,
        { pkceCodeVerifier: login.verifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true },
        { redirect_uri: this.redirectUri }
      )
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) throw new OidcProviderError(err.error)
      throw refusal(err)
    }
    const claims = tokens.claims()
    if (!claims) throw new OidcRefused('token', 'no ID token in the token response')
    let info: Record<string, unknown> = claims
    // Many providers (oidc-provider by default) put email and profile in userinfo, not the ID token.
    if (claims.email === undefined && tokens.access_token) {
      try {
        info = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims }
      } catch (err) {
        throw refusal(err)
      }
    }
    const email = typeof info.email === 'string' ? info.email.trim().toLowerCase() : undefined
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email,
      emailVerified: info.email_verified === true,
      name: typeof info.name === 'string' ? info.name : undefined,
      preferredUsername: typeof info.preferred_username === 'string' ? info.preferred_username : undefined
    }
  }
}

/** Names the check that failed, from openid-client's error and its oauth4webapi cause. */
function refusal(err: unknown): OidcRefused {
  const inner = (err as { cause?: { message?: string; cause?: { claim?: string } } }).cause
  const claim = inner?.cause?.claim
  const text = `${(err as Error)?.message ?? err}: ${inner?.message ?? ''}`
  const reason: RefusalReason =
    claim === 'iss' ? 'issuer'
    : claim === 'aud' || claim === 'azp' ? 'audience'
    : claim === 'nonce' ? 'nonce'
    : /signature|key selection|no applicable key/i.test(text) ? 'signature'
    : 'token'
  return new OidcRefused(reason, text)
}
