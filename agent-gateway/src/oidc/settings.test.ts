import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'

const base = { OIDC_ISSUER: 'https://id.example.com/realms/acme', OIDC_CLIENT_ID: 'circlechat', OIDC_CLIENT_SECRET: 's3cret' }

describe('OIDC_* settings', () => {
  it('are off unless issuer, client id and secret are all set', () => {
    expect(loadConfig({}).oidc).toBeUndefined()
    expect(loadConfig(base).oidc).toEqual({
      issuer: 'https://id.example.com/realms/acme', clientId: 'circlechat', clientSecret: 's3cret',
      name: 'SSO', allowedDomains: [], only: false, breakGlassEmail: undefined
    })
    expect(() => loadConfig({ ...base, OIDC_CLIENT_SECRET: '' })).toThrow(/OIDC_ISSUER: set all of OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET/)
  })

  it('read the name, domains, OIDC_ONLY and the break-glass email', () => {
    const o = loadConfig({ ...base, OIDC_NAME: 'Acme ID', OIDC_ALLOWED_DOMAINS: 'Example.com, @example.org', OIDC_ONLY: '1', OIDC_BREAK_GLASS_EMAIL: 'Root@Example.com' }).oidc
    expect(o).toMatchObject({ name: 'Acme ID', allowedDomains: ['example.com', 'example.org'], only: true, breakGlassEmail: 'root@example.com' })
    expect(() => loadConfig({ ...base, OIDC_ALLOWED_DOMAINS: 'example.com,not a domain' })).toThrow(/OIDC_ALLOWED_DOMAINS/)
    expect(() => loadConfig({ ...base, OIDC_BREAK_GLASS_EMAIL: 'nobody' })).toThrow(/OIDC_BREAK_GLASS_EMAIL/)
  })

  it('refuse a plain-http issuer except on loopback, and OIDC_ONLY without a provider', () => {
    expect(() => loadConfig({ ...base, OIDC_ISSUER: 'http://id.example.com' })).toThrow(/OIDC_ISSUER: use an https:\/\/ issuer/)
    expect(loadConfig({ ...base, OIDC_ISSUER: 'http://127.0.0.1:9000' }).oidc?.issuer).toBe('http://127.0.0.1:9000')
    expect(() => loadConfig({ OIDC_ONLY: '1' })).toThrow(/OIDC_ONLY needs OIDC_ISSUER/)
  })
})
