import { loadConfigOrExit } from './config.js'
import { startServer } from './server.js'

/** `pnpm serve`: the one-process server, configured from the environment. */
const config = loadConfigOrExit()
const server = await startServer({
  dataDir: config.dataDir,
  port: config.port,
  host: config.host,
  publicBaseUrl: config.publicBaseUrl,
  segmentSize: config.segmentSize,
  boardArchiveDays: config.boardArchiveDays,
  redisUrl: config.redisUrl,
  cluster: config.cluster,
  agentAllowPrivateUrls: config.agentAllowPrivateUrls,
  agentShareDir: config.agentShareDir,
  agentWorkers: config.agentWorkers,
  trustProxy: config.trustProxy,
  smtp: config.smtp,
  maxUploadBytes: config.maxUploadBytes,
  uploadQuotaBytes: config.uploadQuotaBytes,
  smtpInboundPort: config.smtpInboundPort,
  inboundDomain: config.inboundDomain,
  inboundAuthservId: config.inboundAuthservId,
  inbound: config.inboundMaxBytes === undefined ? undefined : { maxBytes: config.inboundMaxBytes },
  s3: config.s3,
  oidc: config.oidc
}).catch((err: unknown) => {
  // Storage that cannot be written, a port in use: say what to do, without a stack trace.
  console.error(`CircleChat did not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
console.log(`CircleChat listening on ${server.url} (public URL ${server.gateway.config.publicBaseUrl}, data in ${config.dataDir})`)

let stopping = false
async function shutdown(signal: string) {
  // A second signal means "now": systemd and Docker escalate the same way.
  if (stopping) process.exit(1)
  stopping = true
  console.log(`${signal}: finishing in-flight writes, then exiting`)
  const force = setTimeout(() => {
    console.error('shutdown took over 10 s; exiting anyway')
    process.exit(1)
  }, 10_000)
  force.unref()
  try {
    await server.close()
    process.exit(0)
  } catch (err) {
    console.error('shutdown failed', err)
    process.exit(1)
  }
}
// A stray rejection (a failed mirror write, a socket error) is logged, not fatal: one bad
// request must not take the whole team's chat down. Requests themselves end in app.onError.
process.on('unhandledRejection', (reason) => console.error('unhandled rejection', reason))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
