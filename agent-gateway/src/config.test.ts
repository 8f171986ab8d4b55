import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

describe('loadConfig', () => {
  it('fills every default', () => {
    expect(loadConfig({})).toEqual({
      port: 8080, host: '0.0.0.0', dataDir: './data', publicBaseUrl: 'http://localhost:8080',
      segmentSize: undefined, redisUrl: undefined, agentAllowPrivateUrls: false, agentWorkers: 'inline', trustProxy: [],
      maxUploadBytes: 25 * 1024 * 1024, uploadQuotaBytes: 2048 * 1024 * 1024, s3: undefined
    })
  })

  it('reads the upload limits, and S3 settings only as a whole', () => {
    expect(loadConfig({ MAX_UPLOAD_MB: '1.5' }).maxUploadBytes).toBe(1.5 * 1024 * 1024)
    const s3 = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'cc', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', S3_REGION: 'us-east-1' }
    expect(loadConfig(s3).s3).toEqual({ endpoint: 'http://127.0.0.1:9000', bucket: 'cc', accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1' })
    expect(() => loadConfig({ ...s3, S3_REGION: '' })).toThrow(/S3_ENDPOINT: set all of/)
    expect(() => loadConfig({ MAX_UPLOAD_MB: '0' })).toThrow(/MAX_UPLOAD_MB/)
  })

  it('takes CLUSTER=redis only with REDIS_URL', () => {
    expect(loadConfig({ CLUSTER: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).cluster).toBe('redis')
    expect(() => loadConfig({ CLUSTER: 'redis' })).toThrow(/CLUSTER: CLUSTER needs REDIS_URL/)
    expect(() => loadConfig({ CLUSTER: 'etcd', REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/CLUSTER: the one cluster transport is redis/)
  })

  it('reads TRUST_PROXY as a list of addresses and ranges, and refuses anything else', () => {
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, ::1,172.28.0.0/16' }).trustProxy).toEqual(['127.0.0.1', '::1', '172.28.0.0/16'])
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY.*not an IP address/)
  })

  it('derives the public URL from PORT and trims a trailing slash from an explicit one', () => {
    expect(loadConfig({ PORT: '3000' }).publicBaseUrl).toBe('http://localhost:3000')
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://chat.example.com/' }).publicBaseUrl).toBe('https://chat.example.com')
  })

  it('parses numbers and flags', () => {
    const c = loadConfig({ SEGMENT_SIZE: '500', BOARD_ARCHIVE_DAYS: '30', AGENT_ALLOW_PRIVATE_URLS: 'true', REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(c).toMatchObject({ segmentSize: 500, boardArchiveDays: 30, agentAllowPrivateUrls: true, redisUrl: 'redis://127.0.0.1:6379' })
    expect(loadConfig({ AGENT_ALLOW_PRIVATE_URLS: '0' }).agentAllowPrivateUrls).toBe(false)
  })

  it('turns inbound mail on only with a domain', () => {
    expect(loadConfig({})).toMatchObject({ smtpInboundPort: undefined, inboundDomain: undefined, inboundMaxBytes: undefined })
    expect(loadConfig({ SMTP_INBOUND_PORT: '2525', INBOUND_DOMAIN: 'Mail.Example.com', INBOUND_MAX_MB: '10' }))
      .toMatchObject({ smtpInboundPort: 2525, inboundDomain: 'mail.example.com', inboundMaxBytes: 10 * 1024 * 1024 })
    expect(() => loadConfig({ SMTP_INBOUND_PORT: '2525' })).toThrow(/INBOUND_DOMAIN: SMTP_INBOUND_PORT needs INBOUND_DOMAIN/)
    expect(() => loadConfig({ SMTP_INBOUND_PORT: '2525', INBOUND_DOMAIN: 'not a domain' })).toThrow(/INBOUND_DOMAIN: not a domain/)
  })

  it('treats empty values (KEY= in an .env file) as unset', () => {
    expect(loadConfig({ SEGMENT_SIZE: '', REDIS_URL: ' ', PORT: '' })).toMatchObject({ segmentSize: undefined, redisUrl: undefined, port: 8080 })
  })

  it('names every bad variable with its value, never a secret or a URL\'s password', () => {
    const err = (() => {
      try {
        loadConfig({ SESSION_SECRET: 'short', S3_ENDPOINT: 'http://key:pw@bad host', S3_SECRET_ACCESS_KEY: 'also-secret', PORT: 'eighty' })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    const problems = (err as ConfigError).problems
    expect(problems).toContain('SESSION_SECRET: must be at least 32 characters (it has 5); generate one with: openssl rand -hex 32')
    expect(problems.find((p) => p.startsWith('S3_ENDPOINT: '))).toContain('(it is "http://key:***@bad host")')
    expect(problems.find((p) => p.startsWith('PORT: '))).toContain('(it is "eighty")')
    expect(problems.join('\n')).not.toMatch(/short|pw@|also-secret/)
    expect(loadConfig({ SESSION_SECRET: 'x'.repeat(32) }).sessionSecret).toBe('x'.repeat(32))
  })

  it('reports rules across variables in the same run as bad values, naming what is missing', () => {
    let problems: string[] = []
    try {
      loadConfig({ PORT: 'eighty', PUBLIC_BASE_URL: 'nope', OIDC_ISSUER: 'https://id.example.com', S3_BUCKET: 'files', SMTP_INBOUND_PORT: '2525', OIDC_ONLY: '1' })
    } catch (e) {
      problems = (e as ConfigError).problems
    }
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'PUBLIC_BASE_URL', 'INBOUND_DOMAIN', 'S3_BUCKET', 'OIDC_ISSUER'])
    expect(problems.find((p) => p.startsWith('S3_BUCKET'))).toContain('missing: S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION')
    expect(problems.find((p) => p.startsWith('OIDC_ISSUER'))).toContain('missing: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET')
  })

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'not a url' })).toThrow(/PUBLIC_BASE_URL/)
    expect(() => loadConfig({ SEGMENT_SIZE: '0' })).toThrow(/SEGMENT_SIZE/)
    expect(() => loadConfig({ BOARD_ARCHIVE_DAYS: '0' })).toThrow(/BOARD_ARCHIVE_DAYS/)
  })

  it('takes DATABASE_URL as a postgres:// URL only, never echoing its password', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://cc:pw@db:5432/circlechat' }).databaseUrl).toBe('postgres://cc:pw@db:5432/circlechat')
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/circlechat' }).databaseUrl).toBe('postgresql://db/circlechat')
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined()
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig(env)
      } catch (err) {
        return (err as ConfigError).problems.join('; ')
      }
      return 'accepted'
    }
    expect(problem({ DATABASE_URL: 'mysql://cc:hunter2@db/circlechat' })).toBe('DATABASE_URL: use postgres://user:password@host:5432/database (PostgreSQL); unset, CircleChat uses SQLite in DATA_DIR (it is "mysql://cc:***@db/circlechat")')
    expect(problem({ DATABASE_URL: './data/app.db' })).toMatch(/^DATABASE_URL: not a URL: write postgres:\/\//)
  })
})
