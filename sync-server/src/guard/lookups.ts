import type { AttachedFile } from '../persistence/rows.js'

/** Where the guard's lookups are answered from when reads return promises (PostgreSQL). */
export interface AsyncGuardReads {
  idTaken(id: string): Promise<boolean>
  fileOf(key: string): Promise<AttachedFile | undefined>
  taskIdTaken(id: string): Promise<boolean>
}

/** Keys one update may make the guard look up: far more than a real one needs (a few ids and
 *  attachments), few enough that a crafted update cannot make the server read thousands of rows. */
const MAX_KEYS = 512

/**
 * The guard asks whether an id is taken and which upload a key names synchronously: it decides
 * an update in one turn, before anything else changes the doc. On PostgreSQL those are queries,
 * so the relay runs the guard with these lookups, which answer from what was fetched and note
 * what was not (answering "not taken" and "no such file", so the guard goes on and asks the rest);
 * while `missing`, it awaits `fetch()` and runs the guard again. The verdict it acts on comes from
 * a run that asked nothing unknown, and it applies the update in that same turn. The guard
 * never mutates the doc, so a discarded run costs only its CPU.
 */
export class GuardLookups {
  readonly #reads: AsyncGuardReads
  readonly #ids = new Map<string, boolean>()
  readonly #files = new Map<string, AttachedFile | undefined>()
  readonly #tasks = new Map<string, boolean>()
  /** What the last run asked and nobody knows yet, once per key. */
  #missing = new Map<string, () => Promise<void>>()

  constructor(reads: AsyncGuardReads) {
    this.#reads = reads
  }

  readonly idTaken = (id: string): boolean => this.#answer('m', this.#ids, id, false, () => this.#reads.idTaken(id))
  readonly fileOf = (key: string): AttachedFile | undefined => this.#answer('f', this.#files, key, undefined, () => this.#reads.fileOf(key))
  readonly taskIdTaken = (id: string): boolean => this.#answer('t', this.#tasks, id, false, () => this.#reads.taskIdTaken(id))

  /** The last run asked something not fetched yet: its verdict does not count. */
  get missing(): boolean {
    return this.#missing.size > 0
  }

  /** Fetches what the last run asked and did not know, in parallel; throws past MAX_KEYS. */
  async fetch(): Promise<void> {
    const pending = [...this.#missing.values()]
    this.#missing = new Map()
    if (this.#ids.size + this.#files.size + this.#tasks.size + pending.length > MAX_KEYS) throw new Error(`an update may look up at most ${MAX_KEYS} ids and files`)
    await Promise.all(pending.map((f) => f()))
  }

  #answer<T>(kind: string, known: Map<string, T>, key: string, unknown: T, read: () => Promise<T>): T {
    if (known.has(key)) return known.get(key) as T
    this.#missing.set(`${kind}${key}`, async () => void known.set(key, await read()))
    return unknown
  }
}

/**
 * Runs `guard` with lookups from `reads` until a run asked nothing unknown, then hands its
 * verdict to `act` in that same turn (no await between them: the doc cannot change in between).
 * Each extra run follows a fetch that learnt at least one key, so MAX_KEYS bounds the runs.
 */
export async function guardWithLookups<R>(reads: AsyncGuardReads, guard: (lookups: GuardLookups) => R, act: (verdict: R) => void): Promise<void> {
  const lookups = new GuardLookups(reads)
  for (;;) {
    const verdict = guard(lookups)
    if (!lookups.missing) return act(verdict)
    await lookups.fetch()
  }
}
