import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { createSyncServer, type SocketLimits, type SyncConfig, type SyncServer } from '@circlechat/sync-server'
import { createApp } from './app.js'
import { createAgentRuntime, type AgentRuntime, type AgentRuntimeOptions } from './agents/runtime.js'
import { credentialExpiryChecker, principalFromRequest } from './auth/principal.js'
import { Revocations } from './auth/revocation.js'
import { upgradeOriginAllowed } from './middleware/csrf.js'
import type { LoginThrottleOptions } from './auth/login-throttle.js'
import { memoryLimits, type Limits } from './limits/index.js'
import type { Gateway } from './deps.js'
import type { Config } from './config.js'
import type { OidcSettings } from './oidc/settings.js'
import { UnreadTracker } from './services/unread-tracker.js'
import { UnreadBus } from './services/unread-bus.js'
import { notifyBoardCommentMentions } from './services/task-mentions.js'
import { noteReply } from './services/thread-follows.js'
import { noteReactions } from './services/activity.js'
import { HttpDrain } from './drain.js'
import { BoardFeed } from './agents/board-feed.js'
import { openWritableDb } from './storage-probe.js'
import { BlobLock, openBlobStore, type S3Settings } from './files/index.js'
import { collectFiles } from './services/files.js'
import { createMailer, type SmtpSettings } from './mail/index.js'
import { startMentionDigests, type DigestOptions } from './services/mention-digest.js'
import { DigestShare } from './services/digest-share.js'
import { TokenVault } from './agents/token-vault.js'
import type { InboundLimits, InboundListener } from './inbound-email/listener.js'
import { inboundEmailRoutes } from './inbound-email/routes.js'

const COLLECT_FILES_EVERY_MS = 60 * 60_000

/** apps/web/build, found from this file so the server works from any working directory. */
export const DEFAULT_WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../apps/web/build')

export interface StartOptions {
  dataDir: string
  port: number
  host: string
  /** Defaults to http://<host>:<bound port> (the bound port, so port 0 works in tests). */
  publicBaseUrl?: string
  segmentSize?: number
  /** Days a done task stays on its board doc; the sync server's default when unset. */
  boardArchiveDays?: number
  redisUrl?: string
  /** 'redis': share live documents with the other processes on redisUrl (one owner per doc). */
  cluster?: 'redis'
  agentAllowPrivateUrls?: boolean
  /** The folder agents may share files from by path; unset refuses paths. */
  agentShareDir?: string
  /** 'external': agent runs are delivered by `pnpm worker` processes (needs redisUrl). */
  agentWorkers?: 'inline' | 'external'
  /** The web build to serve; null serves none (API-only). */
  webRoot?: string | null
  /** Agent runtime tuning (retries, timeouts, damping); production uses the defaults. */
  agents?: AgentRuntimeOptions
  /** Send-buffer limit and ping timing of /sync and /agent-socket sockets (tests use short ones). */
  sockets?: Partial<SocketLimits>
  /** The relay's memory budget for live docs (sync-server/src/config.ts; tests use tiny ones). */
  liveDocs?: Partial<Pick<SyncConfig, 'docBudgetBytes' | 'docGraceMs' | 'sealedIdleMs'>>
  /** On close(), how long in-flight HTTP requests get to answer before sockets close anyway. */
  drainMs?: number
  /** Reverse-proxy addresses (IPs, CIDR ranges) whose X-Forwarded-For is believed; default none. */
  trustProxy?: string[]
  /** Failed sign-in delays and per-IP cap (tests use short ones). */
  loginThrottle?: Partial<LoginThrottleOptions>
  /** What this server's Redis keys start with (rate limits); tests give each server its own. */
  redisPrefix?: string
  /** Invites, password resets and mention digests go to this SMTP server; unset: to the log. */
  smtp?: SmtpSettings
  /** Mention digest timing (services/mention-digest.ts has the defaults; tests use short ones). */
  mentionDigest?: Partial<DigestOptions>
  /** Largest upload and per-member total, in bytes (config.ts has the defaults). */
  maxUploadBytes?: number
  uploadQuotaBytes?: number
  /** Inbound mail: an SMTP listener on this port (0: any free one) for INBOUND_DOMAIN; unset: none. */
  smtpInboundPort?: number
  inboundDomain?: string
  inboundAuthservId?: string
  /** Inbound mail size and rates (inbound-email/listener.ts has the defaults; tests use small ones). */
  inbound?: Partial<InboundLimits>
  /** File bytes in this bucket instead of DATA_DIR/uploads. */
  s3?: S3Settings
  /** Single sign-on through this OpenID Connect provider (OIDC_*); unset: passwords only. */
  oidc?: OidcSettings
}

export interface RunningServer {
  url: string
  gateway: Gateway
  agents: AgentRuntime
  /** The inbound SMTP listener's bound port, or null when it is off. */
  inboundPort: number | null
  close(): Promise<void>
}

/**
 * The one process: SQLite, the sync relay, the REST API and the web app on one port. Returns
 * once listening; close() stops accepting, closes sockets, flushes the relay, then the database.
 */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const db = openWritableDb(opts.dataDir)
  const config: Config = {
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    publicBaseUrl: opts.publicBaseUrl ?? '',
    segmentSize: opts.segmentSize,
    redisUrl: opts.redisUrl,
    cluster: opts.cluster,
    agentAllowPrivateUrls: opts.agentAllowPrivateUrls ?? false,
    agentShareDir: opts.agentShareDir,
    agentWorkers: opts.agentWorkers ?? 'inline',
    trustProxy: opts.trustProxy ?? [],
    smtp: opts.smtp,
    maxUploadBytes: opts.maxUploadBytes ?? 25 * 1024 * 1024,
    uploadQuotaBytes: opts.uploadQuotaBytes ?? 2048 * 1024 * 1024,
    smtpInboundPort: opts.smtpInboundPort,
    inboundDomain: opts.inboundDomain,
    inboundAuthservId: opts.inboundAuthservId,
    inboundMaxBytes: opts.inbound?.maxBytes,
    s3: opts.s3,
    oidc: opts.oidc
  }
  const blobs = await openBlobStore(opts.dataDir, opts.s3).catch((err: unknown) => {
    db.$client.close()
    throw err
  })
  // Watches read markers of me docs as members connect (see services/unread-tracker.ts).
  const unread = new UnreadTracker()
  // Assignments and comments on boards, for agent triggers (agents/board-feed.ts).
  const boards = new BoardFeed()
  const sync: SyncServer = boards.wrap(createSyncServer({
    db,
    // Same resolution as REST, so a cookie or bot token means the same member on both doors.
    authenticate: async (req) => {
      // Peers that cannot set headers (a browser's WebSocket) may pass their bot token as
      // ?token=cc_…, as on /agent-socket; only bot tokens are read from the URL, never sessions.
      const urlToken = req.headers.authorization ? null : new URL(req.url ?? '/', 'http://x').searchParams.get('token')
      const headers = urlToken ? { ...req.headers, authorization: `Bearer ${urlToken}` } : req.headers
      // No sliding renewal here: a 101 cannot re-send the cookie (docs/decisions.md).
      const auth = principalFromRequest(db, headers, Date.now(), { renew: false })
      if (auth?.via === 'cookie' && !upgradeOriginAllowed(req.headers.origin, req.headers.host, config.publicBaseUrl)) return null
      return boards.onSyncUpgrade(req, unread.onSyncUpgrade(req, auth?.principal ?? null))
    },
    // Re-read before each write and at the credential's expiry: logout, rotation, deactivation.
    credentialExpiry: credentialExpiryChecker(db),
    segmentSize: opts.segmentSize,
    cluster: syncCluster(opts)
  }, { ...opts.sockets, ...opts.liveDocs, ...(opts.boardArchiveDays === undefined ? {} : { boardArchiveDays: opts.boardArchiveDays }) }))

  // With Redis, every process counts sign-ins, reset mails and agent posts against one budget.
  const redisLimits = opts.redisUrl ? (await import('./limits/redis.js')).redisLimits(opts.redisUrl, opts.redisPrefix ?? 'cc:') : null
  const limits: Limits = redisLimits ?? memoryLimits
  const mail = createMailer(opts.smtp, () => config.publicBaseUrl)
  const gateway: Gateway = {
    db, sync, config, blobs, blobLock: new BlobLock(), secureCookies: false, limits, loginThrottle: limits.loginThrottle(opts.loginThrottle),
    revocations: new Revocations(sync),
    mail,
    // Several processes mail digests: one pass at a time, skipping whoever is connected anywhere.
    digestShare: opts.cluster && mail.transport === 'smtp' ? new DigestShare(opts.redisUrl!, opts.redisPrefix ?? 'cc:', sync) : null
  }
  // Several processes: each commit's unread work reaches the process owning each member's me doc.
  const unreadBus = opts.cluster ? await UnreadBus.open(opts.redisUrl!, `${opts.redisPrefix ?? 'cc:'}unread`, (c, w) => unread.receive(c, w)) : null
  unread.start(gateway, unreadBus ?? undefined)
  // Mail into channels (inbound-email/), when SMTP_INBOUND_PORT and INBOUND_DOMAIN are set.
  let inbound: InboundListener | null = null
  if (opts.smtpInboundPort !== undefined && opts.inboundDomain) {
    try {
      // The SMTP listener, the mail parser and DOMPurify load only when mail is on: ~2 s of start.
      const { startInboundListener } = await import('./inbound-email/listener.js')
      inbound = await startInboundListener(gateway, {
        port: opts.smtpInboundPort, host: opts.host, domain: opts.inboundDomain, authservId: opts.inboundAuthservId, limits: opts.inbound
      })
    } catch (err) {
      await sync.close()
      await redisLimits?.close()
      await unreadBus?.close()
      await gateway.digestShare?.close()
      blobs.close()
      db.$client.close()
      throw new Error(`the inbound mail listener could not listen on port ${opts.smtpInboundPort}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  // Unreachable uploads and their blobs (services/files.ts); a failed pass is retried next time.
  const collector = setInterval(() => void collectFiles(gateway).catch((err: unknown) => console.error('file collector failed:', err)), COLLECT_FILES_EVERY_MS)
  collector.unref()
  // Opted-in people who are away get their unread mentions by mail (SMTP only).
  const stopDigests = startMentionDigests(gateway, opts.mentionDigest)

  // The HTTP server starts first (its bound port completes the config the app is built from);
  // requests arriving in that instant get a 503.
  let fetchApp: (req: Request, env: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 })
  let server: Server
  try {
    server = await new Promise<Server>((ready, fail) => {
      const s = serve({ fetch: (req, env) => fetchApp(req, env), port: opts.port, hostname: opts.host }, () => ready(s as Server))
      s.once('error', fail)
    })
  } catch (err) {
    await sync.close()
    await redisLimits?.close()
    await unreadBus?.close()
    await gateway.digestShare?.close()
    blobs.close()
    db.$client.close()
    throw err
  }
  const { port } = server.address() as AddressInfo
  const hostForUrl = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const url = `http://${hostForUrl}:${port}`
  config.port = port
  config.publicBaseUrl = (opts.publicBaseUrl ?? url).replace(/\/+$/, '')
  gateway.secureCookies = config.publicBaseUrl.startsWith('https:')

  const webRoot = opts.webRoot === undefined ? DEFAULT_WEB_ROOT : opts.webRoot
  const agents = await createAgentRuntime(gateway, { ...opts.agents, sockets: opts.sockets, boards })
  // A task comment's mentions are news for the people named, whoever wrote it.
  const stopMentions = boards.onTaskChange((c) => {
    if (c.kind !== 'commented') return
    notifyBoardCommentMentions(gateway, c.board, { taskId: c.taskId, commentId: c.commentId, by: c.author, at: c.at }, c.mentions)
      .catch((err: unknown) => console.error('could not note task mentions', err))
  })
  // A thread reply, from any writer, follows its author in and tells the followers; a reaction
  // is noted for the Mentions & reactions view of the message's author.
  const stopFollows = sync.onMessageChange((c) => {
    if (c.kind === 'updated') noteReactions(gateway, c.conversationId, c.message).catch((err: unknown) => console.error('could not note reactions', err))
    if (c.kind !== 'created' || !c.message.parentId) return
    noteReply(gateway, c.conversationId, c.message).catch((err: unknown) => console.error('could not note a thread reply', err))
  })
  const app = createApp(gateway, { webRoot: webRoot ?? undefined, routes: [...agents.routes, ['/api/conversations', inboundEmailRoutes(gateway, new TokenVault(opts.dataDir))]] })
  const drain = new HttpDrain()
  fetchApp = drain.wrap((req, env) => app.fetch(req, env)) // env carries the Node socket (client IP)

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (drain.draining) return socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path.startsWith('/sync/')) return sync.handleUpgrade(req, socket, head)
    if (path === '/agent-socket') return agents.socketUpgrade(req, socket, head)
    socket.destroy() // no such socket endpoint: drop it without a response
  })

  let closing: Promise<void> | null = null
  return {
    url,
    gateway,
    agents,
    inboundPort: inbound?.port ?? null,
    close: () =>
      (closing ??= (async () => {
        // Drain: stop accepting connections, let in-flight requests answer (later ones get 503),
        // stop agent runs, flush pending commits, then close sockets with closeCode.restarting.
        const stopped = new Promise<void>((done) => server.close(() => done()))
        server.closeIdleConnections()
        await drain.drain(opts.drainMs ?? 5000)
        await inbound?.close()
        server.closeIdleConnections()
        stopMentions()
        stopFollows()
        await agents.close()
        unread.stop()
        clearInterval(collector)
        stopDigests()
        await gateway.digestShare?.close()
        gateway.mail.close()
        await sync.close() // waits for pending commits, then closes sync sockets (restarting)
        await redisLimits?.close()
        await unreadBus?.close()
        server.closeAllConnections()
        await stopped
        blobs.close()
        db.$client.close()
      })())
  }

}

/** The relay's cluster settings: its keys beside the rate limits', under the same prefix. */
function syncCluster(opts: Pick<StartOptions, 'cluster' | 'redisUrl' | 'redisPrefix'>) {
  if (!opts.cluster) return undefined
  if (!opts.redisUrl) throw new Error('CLUSTER=redis needs REDIS_URL, the Redis the processes share')
  return { redisUrl: opts.redisUrl, prefix: `${opts.redisPrefix ?? 'cc:'}sync:` }
}
