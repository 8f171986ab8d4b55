/** Single sign-on settings, parsed from OIDC_* by config.ts. */
export interface OidcSettings {
  /** The provider's issuer URL; its /.well-known/openid-configuration is read on first use. */
  issuer: string
  clientId: string
  clientSecret: string
  /** Shown on the button: "Sign in with <name>". */
  name: string
  /** Lowercase email domains whose verified addresses join without an invite; [] = invites only. */
  allowedDomains: string[]
  /** Password sign-in refused for everyone but the break-glass admin (policy.ts). */
  only: boolean
  /** The one account that may still use a password under `only`; unset: the first admin. */
  breakGlassEmail?: string
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** http:// is accepted for an issuer on this machine only (a test or a dev provider). */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.has(new URL(url).hostname)
  } catch {
    return false
  }
}
