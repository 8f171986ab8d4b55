import { Queue, Worker, DelayedError, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import type { TriggerEvent } from './packet.js'
import type { RunFn, RunQueue } from './queue.js'
import type { Delivery } from './runner.js'

const QUEUE = 'circlechat-agent-runs'
/** Runs of socket agents when workers are external: their socket is held by the server. */
export const LOCAL_QUEUE = 'circlechat-agent-runs-local'
const RESULTS = 'circlechat-agent-results'
/** Held while an agent runs, so several workers still run one agent at a time. */
const LOCK_MS = 5 * 60_000

interface RunJob { agentId: string; event: TriggerEvent; hops?: number }

/** The queue only one server process works: runs of the socket agents connected to it. */
export const processQueueName = (processId: string) => `${QUEUE}-at-${processId}`

/**
 * The queue when REDIS_URL is set: runs are BullMQ jobs, heartbeats are job schedulers, and any
 * process started with `pnpm worker` (or the server itself) works them off. A job id per agent
 * and trigger class coalesces triggers that pile up while the agent is busy.
 */
export class BullQueue implements RunQueue {
  readonly queue: Queue<RunJob>
  readonly #connection: Redis
  readonly #lock: Redis
  #worker: Worker<RunJob> | null = null

  /** `prefix` namespaces every key (tests use their own so runs on one Redis never meet). */
  constructor(redisUrl: string, readonly prefix = 'cc', readonly name = QUEUE) {
    this.#connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.#lock = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.queue = new Queue<RunJob>(name, { connection: this.#connection, prefix })
  }

  enqueue(agentId: string, event: TriggerEvent, delayMs = 0) {
    void this.#add(this.queue, { agentId, event }, delayMs)
  }

  #add(queue: Queue<RunJob>, job: RunJob, delayMs = 0) {
    return queue.add('run', job, {
      delay: delayMs,
      // While a run for this agent waits, later ones of the same kind fold into it.
      deduplication: { id: `${job.agentId}:${job.event.trigger}:${job.event.approvalId ?? ''}` },
      removeOnComplete: 1000,
      removeOnFail: 1000
    }).catch((err) => console.error('could not queue agent run', err))
  }

  readonly #others = new Map<string, Queue<RunJob>>()
  /** Hands a run to another queue (another process's), on this queue's connection. */
  async forward(name: string, job: RunJob) {
    let q = this.#others.get(name)
    if (!q) {
      // Bounded: the processes a run was forwarded to lately, oldest forgotten first.
      if (this.#others.size >= 64) {
        const [oldest, queue] = this.#others.entries().next().value!
        this.#others.delete(oldest)
        void queue.close()
      }
      this.#others.set(name, (q = new Queue<RunJob>(name, { connection: this.#connection, prefix: this.prefix })))
    }
    await this.#add(q, job)
  }

  /**
   * Starts working jobs in this process. `route` may hand a job on instead (a socket agent
   * connected to another process): it returns true when it did.
   */
  work(run: RunFn, concurrency = 8, route?: (job: RunJob) => Promise<boolean>) {
    this.#worker = new Worker<RunJob>(this.name, async (job: Job<RunJob>, token?: string) => {
      const key = `${this.prefix}:agent-lock:${job.data.agentId}`
      const got = await this.#lock.set(key, job.id ?? '1', 'PX', LOCK_MS, 'NX')
      if (!got) {
        await job.moveToDelayed(Date.now() + 250, token)
        throw new DelayedError()
      }
      // The deduplication key would otherwise live until this job completes, so a mention that
      // arrives during the run was dropped. Releasing it now lets it queue (coalesced) as the next run.
      await job.removeDeduplicationKey()
      try {
        if (!(await route?.(job.data))) await run(job.data.agentId, job.data.event)
      } finally {
        await this.#lock.del(key)
      }
    }, { connection: new Redis(this.#connection.options), prefix: this.prefix, concurrency })
    this.#worker.on('error', (err) => console.error('agent worker error', err))
  }

  async setHeartbeat(agentId: string, everySec: number | null) {
    const id = `heartbeat:${agentId}`
    if (everySec === null) await this.queue.removeJobScheduler(id)
    else await this.queue.upsertJobScheduler(id, { every: everySec * 1000 }, { name: 'run', data: { agentId, event: { trigger: 'scheduled', conversationId: null } } })
  }

  async idle() {
    // Two quiet looks in a row: the reads are not atomic and a busy agent's job hops active → delayed.
    let quiet = 0
    for (;;) {
      // Every heartbeat scheduler keeps its next run as a delayed job: those are not "pending".
      // Delayed is read first and the rest after, since a job only moves delayed → waiting → active.
      const delayed = (await this.queue.getJobs(['delayed'])).filter((j) => !j.repeatJobKey)
      const counts = await this.queue.getJobCounts('waiting', 'active', 'prioritized')
      if (Object.values(counts).every((n) => n === 0) && delayed.length === 0) {
        if (++quiet >= 2) return
      } else quiet = 0
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /**
   * Stops working, moves the runs still waiting here to `to` (a stopping process's own queue
   * empties into the shared one) and removes this queue's keys.
   */
  async handOver(to: BullQueue) {
    await this.#worker?.close()
    this.#worker = null
    for (const job of await this.queue.getJobs(['waiting', 'delayed', 'prioritized'])) await this.forward(to.name, job.data)
    await this.queue.obliterate({ force: true })
  }

  /** The connection jobs are added on, for what else this process keeps in Redis. */
  get connection(): Redis {
    return this.#connection
  }

  async close() {
    await this.#worker?.close()
    await Promise.all([this.queue, ...this.#others.values()].map((q) => q.close()))
    this.#connection.disconnect()
    this.#lock.disconnect()
  }
}

/**
 * Delivered runs on their way from a `pnpm worker` process back to the server, which applies
 * them (executor + audit): only the server edits live documents.
 */
export class ResultQueue {
  readonly queue: Queue<Delivery>
  readonly #connection: Redis
  #worker: Worker<Delivery> | null = null

  constructor(redisUrl: string, readonly prefix = 'cc') {
    this.#connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.queue = new Queue<Delivery>(RESULTS, { connection: this.#connection, prefix })
  }

  async add(delivery: Delivery) {
    await this.queue.add('apply', delivery, { removeOnComplete: 1000, removeOnFail: 1000 })
  }

  work(apply: (d: Delivery) => Promise<void>) {
    this.#worker = new Worker<Delivery>(RESULTS, (job) => apply(job.data), { connection: new Redis(this.#connection.options), prefix: this.prefix, concurrency: 8 })
    this.#worker.on('error', (err) => console.error('agent results worker error', err))
  }

  async idle() {
    for (;;) {
      const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
      if (Object.values(counts).every((n) => n === 0)) return
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  async close() {
    await this.#worker?.close()
    await this.queue.close()
    this.#connection.disconnect()
  }
}
