import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Hono } from 'hono'
import type { SocketLimits } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { principalFromRequest } from '../auth/principal.js'
import { SocketHub } from './socket-hub.js'
import { TokenVault } from './token-vault.js'
import { Thinking } from './thinking.js'
import { publishAgentPresence } from './agent-presence.js'
import { InProcessQueue, type RunQueue } from './queue.js'
import type { BullQueue, ResultQueue } from './queue-bullmq.js'
import { SocketHolders } from './socket-holders.js'
import { HeartbeatScheduler } from './scheduler.js'
import { TriggerRouter } from './triggers.js'
import { applyRun, failInterruptedRuns, runAgent, type RunnerOptions } from './runner.js'
import { agentById, agentByMember } from './store.js'
import { agentRoutes, approvalRoutes } from './routes.js'
import { agentApiRoutes } from './agent-api.js'
import { configurePostLimits, type AgentPostLimits } from './post-limits.js'
import type { BoardFeed } from './board-feed.js'

export interface AgentRuntimeOptions {
  /** Delivery attempts per run and the first backoff (doubling). */
  attempts?: number
  backoffMs?: number
  webhookTimeoutMs?: number
  socketTimeoutMs?: number
  /** Agent-caused wakes per conversation without a human message before they stop. */
  botTurnLimit?: number
  ambientQuietMs?: number
  ambientCooldownMs?: number
  /** Redis key prefix of the BullMQ queues (default `cc`). */
  queuePrefix?: string
  /** /agent-socket send-buffer limit and ping timing (tests use short ones). */
  sockets?: Partial<SocketLimits>
  /** Message rate and per-conversation cap of agent posts (post-limits.ts). */
  postLimits?: Partial<AgentPostLimits>
  /** Board assignments and comments (task_assigned, task_comment); without it those never fire. */
  boards?: BoardFeed
}

export interface AgentRuntime {
  vault: TokenVault
  hub: SocketHub
  queue: RunQueue
  /** With Redis: the shared run queue (tests read its jobs and schedulers). */
  bull: BullQueue | null
  routes: Array<[string, Hono<any, any, any>]>
  socketUpgrade: SocketHub['handleUpgrade']
  /** Re-reads an agent's schedule after it was created or changed. */
  agentChanged(agentId: string): void
  close(): Promise<void>
}

/**
 * Wires the agent runtime into a running gateway: change feed → triggers → queue → runner →
 * executor, heartbeats, the agent socket and the agent routes. In-process by default; with
 * REDIS_URL runs and heartbeats are BullMQ jobs.
 */
export async function createAgentRuntime(gw: Gateway, options: AgentRuntimeOptions = {}): Promise<AgentRuntime> {
  const vault = new TokenVault(gw.config.dataDir)
  configurePostLimits(gw, options.postLimits)
  const hub = new SocketHub((req: IncomingMessage) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? (req.headers['x-cc-token'] as string | undefined)
    const headers = token && !req.headers.authorization ? { ...req.headers, authorization: `Bearer ${token}` } : req.headers
    const auth = principalFromRequest(gw.db, headers)
    const rec = auth?.via === 'bearer' ? agentByMember(gw.db, auth.member.id) : null
    return rec && auth?.principal.credentialId ? { agentId: rec.agent.id, handle: rec.member.handle, memberId: rec.member.id, credentialId: auth.principal.credentialId } : null
  }, options.sockets)
  const thinking = new Thinking(gw.db, gw.sync)
  const stopPresence = publishAgentPresence(gw.db, gw.sync, hub)
  const stopping = new AbortController()
  const runner: RunnerOptions = {
    vault, hub, thinking,
    signal: stopping.signal,
    allowPrivateUrls: gw.config.agentAllowPrivateUrls,
    publicBaseUrl: gw.config.publicBaseUrl,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1000,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 60_000,
    socketTimeoutMs: options.socketTimeoutMs ?? 210_000
  }
  const run = (agentId: string, event: Parameters<typeof runAgent>[3]) => {
    // BullMQ job schedulers only fire `scheduled`; ambient wakes ride on them as they do in-process.
    if (bull && event.trigger === 'scheduled') scheduler.wakeQuietChannels(agentId)
    return runAgent(gw, runner, agentId, event)
  }

  let queue: RunQueue
  let bull: BullQueue | null = null
  let pickBull = (_agentId: string): BullQueue => bull!
  // BullMQ and ioredis load only with Redis: they cost ~400 ms of every embedded start.
  const bullmq = gw.config.redisUrl ? await import('./queue-bullmq.js') : null
  if (gw.config.redisUrl && bullmq) {
    // Several server processes may share the queues: a socket agent's run must happen where its
    // socket is. Each process claims its agents' sockets and works a queue of its own; a run that
    // finds its socket agent connected elsewhere is handed there (at most twice, if it moves).
    const processId = randomUUID()
    const mine = new bullmq.BullQueue(gw.config.redisUrl, options.queuePrefix, bullmq.processQueueName(processId))
    const sockets = new SocketHolders(mine.connection, mine.prefix, processId, (agentId) => hub.replaced(agentId))
    const unwatch = hub.onPresence((agent, connected) => (connected ? sockets.hold(agent.agentId) : sockets.release(agent.agentId)))
    const route = async (job: { agentId: string; event: Parameters<typeof run>[1]; hops?: number }) => {
      if ((job.hops ?? 0) >= 2 || hub.isConnected(job.agentId) || agentById(gw.db, job.agentId)?.agent.adapter !== 'socket') return false
      const at = await sockets.holder(job.agentId)
      if (!at || at === processId) return false
      await mine.forward(bullmq.processQueueName(at), { ...job, hops: (job.hops ?? 0) + 1 })
      return true
    }
    mine.work(run, 8, route)
    const shared = new bullmq.BullQueue(gw.config.redisUrl, options.queuePrefix)
    const queues = [mine, shared]
    let results: ResultQueue | null = null
    if (gw.config.agentWorkers === 'external') {
      // Worker processes deliver webhook runs and hand the replies back through the results
      // queue; socket agents' runs stay with the servers, where their sockets are.
      const local = new bullmq.BullQueue(gw.config.redisUrl, options.queuePrefix, bullmq.LOCAL_QUEUE)
      results = new bullmq.ResultQueue(gw.config.redisUrl, options.queuePrefix)
      local.work(run, 8, route)
      results.work((d) => applyRun(gw, d))
      queues.push(local)
      pickBull = (agentId) => (agentById(gw.db, agentId)?.agent.adapter === 'socket' ? local : shared)
    } else {
      shared.work(run, 8, route)
    }
    bull = shared
    queue = {
      enqueue: (agentId, event, delayMs) => pickBull(agentId).enqueue(agentId, event, delayMs),
      async idle() {
        // Results last: the queues that deliver runs feed them.
        await Promise.all(queues.map((q) => q.idle()))
        await results?.idle()
      },
      async close() {
        unwatch()
        await sockets.close()
        await mine.handOver(shared).catch((err: unknown) => console.error('could not hand over agent runs', err))
        await Promise.all([...queues, ...(results ? [results] : [])].map((q) => q.close()))
      }
    }
  } else {
    // Runs happen in this process only, so a run still "running" was cut off by its last stop.
    failInterruptedRuns(gw.db)
    queue = new InProcessQueue(run)
  }
  const scheduler = new HeartbeatScheduler(gw.db, queue, { quietMs: options.ambientQuietMs ?? 6 * 3600_000, cooldownMs: options.ambientCooldownMs ?? 24 * 3600_000 })
  const agentChanged = (agentId: string) => {
    const rec = agentById(gw.db, agentId)
    // A webhook agent without a callback has nowhere to be called: its heartbeats start when it registers one.
    const callable = rec && !rec.member.deactivated && rec.agent.adapter !== 'peer' && (rec.agent.adapter !== 'webhook' || rec.agent.callbackUrl)
    const every = callable ? rec.agent.heartbeatIntervalSec : null
    if (bull) void pickBull(agentId).setHeartbeat(agentId, every).catch((err) => console.error('could not schedule heartbeat', err))
    else scheduler.set(agentId, every)
  }
  if (bull) {
    for (const id of gw.db.$client.prepare('SELECT id FROM agents').pluck().all() as string[]) agentChanged(id)
  } else {
    scheduler.startAll()
  }

  // A rotated token or a deactivated agent loses its /agent-socket at once (auth/revocation.ts).
  const unrevoke = gw.revocations.onRevoke((r) => {
    if (r.kind === 'credential') hub.revoke({ credentialId: r.credentialId }, 'bot token rotated')
    if (r.kind !== 'member') return
    hub.revoke({ memberId: r.memberId }, 'agent deactivated')
    const rec = agentByMember(gw.db, r.memberId)
    if (rec) agentChanged(rec.agent.id) // no more heartbeats
  })

  let closed = false
  const router = new TriggerRouter(gw.db, options.botTurnLimit ?? 20)
  const unsubscribe = gw.sync.onMessageChange((change) => {
    // Off the relay's commit path (the feed is called from it): routing wakes never delays the
    // fan-out of the message itself. setImmediate keeps the order, which bot-turn counting needs.
    setImmediate(() => {
      if (closed) return
      for (const wake of router.wakesFor(change)) queue.enqueue(wake.agentId, wake.event, wake.delayMs)
    })
  })

  // Already delivered after the commit, off the relay's path (board-feed.ts).
  const unsubscribeTasks = options.boards?.onTaskChange((change) => {
    if (closed) return
    for (const wake of router.wakesForTask(change)) queue.enqueue(wake.agentId, wake.event, wake.delayMs)
  })

  const rt: AgentRuntime = {
    vault, hub, queue, bull,
    routes: [],
    socketUpgrade: hub.handleUpgrade,
    agentChanged,
    async close() {
      closed = true
      unsubscribe()
      unsubscribeTasks?.()
      stopPresence()
      unrevoke()
      scheduler.stop()
      // Cut deliveries in flight (webhook calls, socket replies awaited), then let their runs
      // record how they ended while the database is still open.
      stopping.abort()
      await hub.close()
      await queue.close()
    }
  }
  rt.routes.push(['/api/agents', agentRoutes(gw, rt)], ['/api/approvals', approvalRoutes(gw, rt)], ['/api/agent-api', agentApiRoutes(gw, rt)])
  return rt
}

