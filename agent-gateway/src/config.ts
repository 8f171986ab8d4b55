import { z } from 'zod'
import { parseProxyEntry } from './auth/client-ip.js'

/** Treats "1", "true", "yes" as on; anything else (or unset) as off. Env values are strings. */
const flag = z
  .string()
  .optional()
  .transform((v) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase()))

const envSchema = z.object({
  // 8080: unprivileged, so the process never needs root; Caddy in front takes 80/443.
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // 0.0.0.0: reachable from the LAN on a Pi out of the box; set 127.0.0.1 behind a proxy.
  HOST: z.string().min(1).default('0.0.0.0'),
  // ./data: next to the checkout, so a fresh clone runs without creating system directories.
  DATA_DIR: z.string().min(1).default('./data'),
  // Unset: derived from PORT below, which is right for a laptop; set it behind a proxy or TLS
  // (it decides the Secure cookie flag, the CSRF origin and invite links).
  PUBLIC_BASE_URL: z.url().optional(),
  // Unset: the sync server's own default (1000 messages a segment; see packages/model segments.ts).
  SEGMENT_SIZE: z.coerce.number().int().min(10).max(100_000).optional(),
  // Unset: everything runs in-process; set it to run agent jobs and heartbeats on BullMQ.
  REDIS_URL: z.string().min(1).optional(),
  // Off: agent webhooks may not target private or loopback addresses (SSRF); turn on for local agents.
  AGENT_ALLOW_PRIVATE_URLS: flag,
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
  })
})

export interface Config {
  port: number
  host: string
  dataDir: string
  publicBaseUrl: string
  segmentSize: number | undefined
  redisUrl: string | undefined
  agentAllowPrivateUrls: boolean
  agentWorkers?: 'inline' | 'external'
  /** Reverse-proxy addresses whose X-Forwarded-For is believed (auth/client-ip.ts); [] trusts none. */
  trustProxy?: string[]
}

/** Parses the environment once at startup; a bad value stops the process with a readable error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `SEGMENT_SIZE=` in an .env file means "not set", not zero.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''))
  const parsed = envSchema.safeParse(set)
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
    throw new Error(`Invalid environment: ${detail}`)
  }
  const e = parsed.data
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    segmentSize: e.SEGMENT_SIZE,
    redisUrl: e.REDIS_URL,
    agentAllowPrivateUrls: e.AGENT_ALLOW_PRIVATE_URLS,
    agentWorkers: e.AGENT_WORKERS,
    trustProxy: e.TRUST_PROXY
  }
}
