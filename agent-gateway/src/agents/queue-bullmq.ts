import { Queue, Worker, DelayedError, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import type { TriggerEvent } from './packet.js'
import type { RunFn, RunQueue } from './queue.js'

const QUEUE = 'circlechat-agent-runs'
/** Held while an agent runs, so several workers still run one agent at a time. */
const LOCK_MS = 5 * 60_000

interface RunJob { agentId: string; event: TriggerEvent }

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

  constructor(redisUrl: string, private readonly prefix = 'cc') {
    this.#connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.#lock = new Redis(redisUrl, { maxRetriesPerRequest: null })
    this.queue = new Queue<RunJob>(QUEUE, { connection: this.#connection, prefix })
  }

  enqueue(agentId: string, event: TriggerEvent, delayMs = 0) {
    void this.queue.add('run', { agentId, event }, {
      delay: delayMs,
      // While a run for this agent waits, later ones of the same kind fold into it.
      deduplication: { id: `${agentId}:${event.trigger}:${event.approvalId ?? ''}` },
      removeOnComplete: 1000,
      removeOnFail: 1000
    }).catch((err) => console.error('could not queue agent run', err))
  }

  /** Starts working jobs in this process. */
  work(run: RunFn, concurrency = 8) {
    this.#worker = new Worker<RunJob>(QUEUE, async (job: Job<RunJob>, token?: string) => {
      const key = `${this.prefix}:agent-lock:${job.data.agentId}`
      const got = await this.#lock.set(key, job.id ?? '1', 'PX', LOCK_MS, 'NX')
      if (!got) {
        await job.moveToDelayed(Date.now() + 250, token)
        throw new DelayedError()
      }
      try {
        await run(job.data.agentId, job.data.event)
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
    this.#lock.disconnect()
  }
}
