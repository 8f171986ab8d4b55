import { join } from 'node:path'
import { openDb } from '@circlechat/db'
import { loadConfigOrExit } from './config.js'
import { BullQueue, ResultQueue } from './agents/queue-bullmq.js'
import { deliverRun, type DeliverOptions } from './agents/runner.js'
import { HeartbeatScheduler } from './agents/scheduler.js'
import { SocketHub } from './agents/socket-hub.js'
import { TokenVault } from './agents/token-vault.js'

/**
 * `pnpm worker`: delivers agent runs outside the server process. Start the server with
 * REDIS_URL and AGENT_WORKERS=external, and any number of these with the same REDIS_URL and
 * DATA_DIR (it reads the SQLite file and the token key there). A worker builds the packet,
 * calls the agent with retries, and queues the raw reply; the server applies it, because only
 * the server may edit the live documents. Socket agents' runs stay on the server, where their
 * socket is.
 *
 * Env: REDIS_URL, DATA_DIR, PUBLIC_BASE_URL (as the server's: packets carry file URLs on it), AGENT_ALLOW_PRIVATE_URLS, AGENT_QUEUE_PREFIX (default cc),
 * AGENT_ATTEMPTS (3), AGENT_BACKOFF_MS (1000), AGENT_WEBHOOK_TIMEOUT_MS (60000).
 */
const config = loadConfigOrExit()
if (!config.redisUrl) {
  console.error('pnpm worker needs REDIS_URL (and the server started with AGENT_WORKERS=external)')
  process.exit(1)
}
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}
const prefix = process.env.AGENT_QUEUE_PREFIX || 'cc'
const db = openDb(join(config.dataDir, 'circlechat.db'))
const runs = new BullQueue(config.redisUrl, prefix)
const results = new ResultQueue(config.redisUrl, prefix)
const opts: DeliverOptions = {
  vault: new TokenVault(config.dataDir),
  // No socket agents here: a worker never holds their sockets (their runs use another queue).
  hub: new SocketHub(() => null),
  allowPrivateUrls: config.agentAllowPrivateUrls,
  publicBaseUrl: config.publicBaseUrl,
  attempts: num('AGENT_ATTEMPTS', 3),
  backoffMs: num('AGENT_BACKOFF_MS', 1000),
  webhookTimeoutMs: num('AGENT_WEBHOOK_TIMEOUT_MS', 60_000),
  socketTimeoutMs: 210_000
}
const ambient = new HeartbeatScheduler(db, runs, { quietMs: 6 * 3600_000, cooldownMs: 24 * 3600_000 })

runs.work(async (agentId, event) => {
  if (event.trigger === 'scheduled') ambient.wakeQuietChannels(agentId)
  const delivery = await deliverRun(db, opts, agentId, event)
  if (delivery) await results.add(delivery)
})
console.log(`agent worker ready (queue prefix ${prefix}, data in ${config.dataDir})`)

let stopping = false
async function shutdown() {
  if (stopping) process.exit(1)
  stopping = true
  await runs.close()
  await results.close()
  db.$client.close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown())
process.on('SIGINT', () => void shutdown())
