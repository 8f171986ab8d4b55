import { z } from 'zod'
import { parseProxyEntry } from './auth/client-ip.js'
import type { S3Settings } from './files/index.js'
import { isLoopbackUrl, type OidcSettings } from './oidc/settings.js'

/** Treats "1", "true", "yes" as on; anything else (or unset) as off. Env values are strings. */
const flag = z
  .string()
  .optional()
  .transform((v) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase()))

const envSchema = z.object({
  // 8080: unprivileged, so the process never needs root; Caddy in front takes 80/443.
  PORT: z.coerce.number({ error: 'not a port number' }).int({ error: 'not a port number' }).min(0).max(65535, { error: 'a port is at most 65535' }).default(8080),
  // 0.0.0.0: reachable from the LAN on a Pi out of the box; set 127.0.0.1 behind a proxy.
  HOST: z.string().min(1).default('0.0.0.0'),
  // ./data: next to the checkout, so a fresh clone runs without creating system directories.
  DATA_DIR: z.string().min(1).default('./data'),
  // Unset: derived from PORT below, which is right for a laptop; set it behind a proxy or TLS
  // (it decides the Secure cookie flag, the CSRF origin and invite links).
  PUBLIC_BASE_URL: z.url({ error: 'not a URL: write the address people open, with its scheme, e.g. https://chat.example.com' }).optional(),
  // Unset: nothing needs it (session, invite and bot tokens are random and stored as hashes).
  // Set (deploy/install-pi.sh generates one), it is a key for signing, so a short one is refused.
  SESSION_SECRET: z.string().optional().superRefine((v, ctx) => {
    if (v !== undefined && v.length < 32) ctx.addIssue({ code: 'custom', message: `must be at least 32 characters (it has ${v.length}); generate one with: openssl rand -hex 32` })
  }),
  // Unset: the sync server's own default (1000 messages a segment; see packages/model segments.ts).
  SEGMENT_SIZE: z.coerce.number().int().min(10).max(100_000).optional(),
  // Unset: the sync server's own default (done tasks untouched for 14 days leave the board doc).
  BOARD_ARCHIVE_DAYS: z.coerce.number().int().min(1).max(3650).optional(),
  // Unset: SQLite in DATA_DIR, the one-box default. Set: PostgreSQL as the system of record, for
  // several processes on one database (issue 15; until it is done the server refuses to start).
  DATABASE_URL: z.url({ error: 'not a URL: write postgres://user:password@host:5432/database' }).optional()
    .refine((v) => v === undefined || !URL.canParse(v) || /^postgres(ql)?:$/.test(new URL(v).protocol), 'use postgres://user:password@host:5432/database (PostgreSQL); unset, CircleChat uses SQLite in DATA_DIR'),
  // Unset: everything runs in-process; set it to run agent jobs and heartbeats on BullMQ.
  REDIS_URL: z.string().min(1).optional(),
  // redis (needs REDIS_URL): several processes on one database share the live documents, one
  // owner per document (sync-server/src/cluster/). Unset: this process owns every document.
  CLUSTER: z.enum(['redis'], { error: 'the one cluster transport is redis (CLUSTER=redis, with REDIS_URL)' }).optional(),
  // Off: agent webhooks may not target private or loopback addresses (SSRF); turn on for local agents.
  AGENT_ALLOW_PRIVATE_URLS: flag,
  // Unset: agents share files by URL only. Set it to a folder whose files agents may share by path.
  AGENT_SHARE_DIR: z.string().min(1).optional(),
  // inline: this process runs agent jobs. external (needs REDIS_URL): `pnpm worker` processes
  // deliver them and this process only applies their replies (it owns the live documents).
  AGENT_WORKERS: z.enum(['inline', 'external']).default('inline'),
  // Unset: the client IP is the socket's peer and X-Forwarded-For is ignored (anyone can write
  // it). Behind a reverse proxy, list the proxy's addresses (IPs or CIDR ranges, comma-separated):
  // requests from them take the client IP from X-Forwarded-For.
  TRUST_PROXY: z.string().optional().transform((v, ctx) => {
    const entries = (v ?? '').split(',').map((e) => e.trim()).filter(Boolean)
    for (const e of entries) {
      if (!parseProxyEntry(e)) ctx.addIssue({ code: 'custom', message: `not an IP address or CIDR range: ${e} (list the proxy's addresses, e.g. 127.0.0.1,::1)` })
    }
    return entries
  }),
  // Unset: invite, password reset and digest mails are printed to the log (links included).
  SMTP_URL: z.url().optional().refine((v) => v === undefined || /^smtps?:$/.test(new URL(v).protocol),
    'use smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS); URL-encode special characters'),
  // Unset: "CircleChat <noreply@<host of PUBLIC_BASE_URL>>".
  SMTP_FROM: z.string().min(3).max(200).optional(),
  // Unset: no inbound mail. Set: an SMTP listener on this port takes mail for channels' addresses
  // (<channel>+<secret>@INBOUND_DOMAIN); put it behind the host's MTA, which does TLS and SPF/DKIM.
  SMTP_INBOUND_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // The domain of channels' inbound addresses; its MX must lead to SMTP_INBOUND_PORT.
  INBOUND_DOMAIN: z.string().trim().toLowerCase().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'not a domain (e.g. mail.example.com)').optional(),
  // Unset: INBOUND_DOMAIN. The MTA's authserv-id, whose Authentication-Results header is believed.
  INBOUND_AUTHSERV_ID: z.string().trim().min(1).optional(),
  // Unset: 25, as an upload. A larger mail is refused at MAIL FROM (SIZE) or at the end of DATA.
  INBOUND_MAX_MB: z.coerce.number().positive().max(1024).optional(),
  // 25: a phone video or a long PDF, and small enough to stream through a Pi without trouble.
  MAX_UPLOAD_MB: z.coerce.number().positive().max(5 * 1024).default(25),
  // 2048: a generous per-member total, so one account cannot fill the disk alone.
  UPLOAD_QUOTA_MB: z.coerce.number().positive().default(2048),
  // All five, or none (files stay under DATA_DIR/uploads).
  S3_ENDPOINT: z.url().optional(),
  S3_BUCKET: z.string().min(1).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).optional(),
  // All three, or none: single sign-on through an OpenID Connect provider (docs/oidc.md). The
  // provider must allow PUBLIC_BASE_URL/api/auth/oidc/callback as a redirect URI.
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  // What the sign-in button says: "Sign in with <OIDC_NAME>".
  OIDC_NAME: z.string().trim().min(1).max(40).default('SSO'),
  // Unset: only invited emails join through the provider. Set: verified emails of these domains
  // (comma-separated) join as members on their first sign-in.
  OIDC_ALLOWED_DOMAINS: z.string().optional().transform((v, ctx) => {
    const domains = (v ?? '').split(',').map((d) => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean)
    for (const d of domains) {
      if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d)) ctx.addIssue({ code: 'custom', message: `not a domain: ${d} (e.g. example.com,example.org)` })
    }
    return domains
  }),
  // Off: passwords and the provider both sign in. On: only the provider does, except the
  // break-glass admin (OIDC_BREAK_GLASS_EMAIL, or else the workspace's first admin).
  OIDC_ONLY: flag,
  OIDC_BREAK_GLASS_EMAIL: z.string().trim().toLowerCase().pipe(z.email()).optional()
})

type RawEnv = Record<string, string | undefined>

/**
 * Rules across variables, checked on the raw strings so they are reported in the same run as a
 * bad value elsewhere (zod skips an object's refinements once one of its fields failed).
 */
function crossFieldProblems(env: RawEnv): { name: string; message: string }[] {
  const problems: { name: string; message: string }[] = []
  const allOrNone = (names: string[]) => {
    const missing = names.filter((n) => env[n] === undefined)
    if (missing.length > 0 && missing.length < names.length) {
      problems.push({ name: names.find((n) => env[n] !== undefined)!, message: `set all of ${names.join(', ')}, or none (missing: ${missing.join(', ')})` })
    }
  }
  if (env.CLUSTER !== undefined && env.REDIS_URL === undefined) {
    problems.push({ name: 'CLUSTER', message: 'CLUSTER needs REDIS_URL, the Redis the processes share (e.g. redis://127.0.0.1:6379)' })
  }
  if (env.SMTP_INBOUND_PORT !== undefined && env.INBOUND_DOMAIN === undefined) {
    problems.push({ name: 'INBOUND_DOMAIN', message: 'SMTP_INBOUND_PORT needs INBOUND_DOMAIN, the domain of channel addresses (e.g. mail.example.com)' })
  }
  allOrNone(['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_REGION'])
  allOrNone(['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'])
  // Plain http would let anyone on the path forge the provider's answers; loopback is for tests.
  // (Not a URL at all is the field's own error.)
  const issuer = env.OIDC_ISSUER
  if (issuer && URL.canParse(issuer) && !issuer.startsWith('https://') && !isLoopbackUrl(issuer)) {
    problems.push({ name: 'OIDC_ISSUER', message: 'use an https:// issuer (plain http is allowed on loopback only)' })
  }
  if (flag.parse(env.OIDC_ONLY) && env.OIDC_ISSUER === undefined) {
    problems.push({ name: 'OIDC_ONLY', message: 'OIDC_ONLY needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET' })
  }
  return problems
}

export interface Config {
  port: number
  host: string
  dataDir: string
  publicBaseUrl: string
  segmentSize: number | undefined
  /** Days a done task stays on its board doc before it is archived (BOARD_ARCHIVE_DAYS). */
  boardArchiveDays?: number
  /** PostgreSQL instead of SQLite (DATABASE_URL); unset: SQLite in dataDir. */
  databaseUrl?: string
  redisUrl: string | undefined
  /** Documents shared with other processes through REDIS_URL (CLUSTER=redis). */
  cluster?: 'redis'
  agentAllowPrivateUrls: boolean
  /** The one folder share_files may read by path (AGENT_SHARE_DIR); unset refuses paths. */
  agentShareDir?: string
  agentWorkers?: 'inline' | 'external'
  /** Mail goes to this SMTP server when set (SMTP_URL, SMTP_FROM); otherwise to the log. */
  smtp?: { url: string; from?: string }
  /** Reverse-proxy addresses whose X-Forwarded-For is believed (auth/client-ip.ts); [] trusts none. */
  trustProxy?: string[]
  /** The inbound SMTP listener's port (SMTP_INBOUND_PORT); unset: no inbound mail. */
  smtpInboundPort?: number
  /** The domain of channels' inbound addresses (INBOUND_DOMAIN). */
  inboundDomain?: string
  /** Whose Authentication-Results header is believed (INBOUND_AUTHSERV_ID, else INBOUND_DOMAIN). */
  inboundAuthservId?: string
  /** Largest inbound mail in bytes (INBOUND_MAX_MB). */
  inboundMaxBytes?: number
  /** Largest upload in bytes (MAX_UPLOAD_MB); default 25 MiB. */
  maxUploadBytes?: number
  /** Bytes one member may have uploaded in all (UPLOAD_QUOTA_MB); default 2 GiB. */
  uploadQuotaBytes?: number
  /** Where file bytes go when set; otherwise DATA_DIR/uploads. */
  s3?: S3Settings
  /** A server-wide signing key (SESSION_SECRET, 32+ characters) when the admin set one. */
  sessionSecret?: string
  /** Single sign-on (OIDC_*); unset: password sign-in only. */
  oidc?: OidcSettings
}

/** Every bad variable at once, one `NAME: what is wrong (it is "value")` line each. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join('; ')}`)
  }
}

/** Exit status for a configuration error (EX_CONFIG): the systemd unit does not restart on it. */
export const EXIT_CONFIG = 78

// Values of these are never echoed back into the log.
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY/
function shown(name: string, value: string | undefined): string {
  if (value === undefined || SECRET_NAME.test(name)) return ''
  // A URL may carry a password (redis://:pw@host, smtp://user:pw@host).
  const safe = value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@')
  return ` (it is ${JSON.stringify(safe.length > 120 ? `${safe.slice(0, 120)}…` : safe)})`
}

/** Parses the environment once at startup; a bad value throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `SEGMENT_SIZE=` in an .env file means "not set", not zero.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''))
  const parsed = envSchema.safeParse(set)
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ name: i.path.join('.'), message: i.message }))),
    ...crossFieldProblems(set)
  ]
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(problems.map(({ name, message }) => `${name}: ${message}${shown(name, set[name])}`))
  }
  const e = parsed.data
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    segmentSize: e.SEGMENT_SIZE,
    boardArchiveDays: e.BOARD_ARCHIVE_DAYS,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    cluster: e.CLUSTER,
    agentAllowPrivateUrls: e.AGENT_ALLOW_PRIVATE_URLS,
    agentShareDir: e.AGENT_SHARE_DIR,
    agentWorkers: e.AGENT_WORKERS,
    smtp: e.SMTP_URL ? { url: e.SMTP_URL, from: e.SMTP_FROM } : undefined,
    trustProxy: e.TRUST_PROXY,
    smtpInboundPort: e.SMTP_INBOUND_PORT,
    inboundDomain: e.INBOUND_DOMAIN,
    inboundAuthservId: e.INBOUND_AUTHSERV_ID,
    inboundMaxBytes: e.INBOUND_MAX_MB === undefined ? undefined : Math.round(e.INBOUND_MAX_MB * 1024 * 1024),
    maxUploadBytes: Math.round(e.MAX_UPLOAD_MB * 1024 * 1024),
    uploadQuotaBytes: Math.round(e.UPLOAD_QUOTA_MB * 1024 * 1024),
    sessionSecret: e.SESSION_SECRET,
    s3: e.S3_ENDPOINT && e.S3_BUCKET && e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY && e.S3_REGION
      ? { endpoint: e.S3_ENDPOINT, bucket: e.S3_BUCKET, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY, region: e.S3_REGION }
      : undefined,
    oidc: e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET
      ? {
          issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET, name: e.OIDC_NAME,
          allowedDomains: e.OIDC_ALLOWED_DOMAINS, only: e.OIDC_ONLY, breakGlassEmail: e.OIDC_BREAK_GLASS_EMAIL
        }
      : undefined
  }
}

/**
 * loadConfig for an entry point: a bad environment prints what to fix, one line a variable, and
 * exits with EXIT_CONFIG before anything opens a file or a port.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`CircleChat did not start: the configuration is invalid (see .env.example)\n${err.problems.map((p) => `  ${p}`).join('\n')}`)
    process.exit(EXIT_CONFIG)
  }
  if (config.databaseUrl) {
    console.error(`CircleChat did not start: ${POSTGRES_NOT_YET}`)
    process.exit(EXIT_CONFIG)
  }
  return config
}

/**
 * Why DATABASE_URL stops the start for now: only the documents' store runs on PostgreSQL
 * (sync-server PgDocStore); starting half on each database would split the system of record.
 */
export const POSTGRES_NOT_YET = 'DATABASE_URL (PostgreSQL) is not supported yet: only the documents\' update log has a PostgreSQL store; the relay\'s indexes and guard reads, accounts, agents, approvals, files, search, the change feed and backups still run on SQLite only. Unset DATABASE_URL to use SQLite in DATA_DIR.'
