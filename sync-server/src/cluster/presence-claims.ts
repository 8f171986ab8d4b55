import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * Which process speaks for each awareness client id of a doc that arrived from another process.
 * The first process heard with an id holds it until that id's state is removed (its connection
 * closed, or the 30 s awareness timeout): entries for it from any other process are dropped, and
 * a connection here may not claim it (relay.ts `#onAwareness`). A process never takes an id of
 * its own connections from the bus either. Processes are trusted (Redis is inside the trust
 * boundary); what this stops is a client on one process speaking for a client on another.
 */
export class PresenceClaims {
  readonly #holders = new Map<number, string>()

  /** At most `max` ids held for other processes; a new id past it is dropped (presence only). */
  constructor(readonly max: number) {}

  /** Whether another process speaks for `id`. */
  has(id: number): boolean {
    return this.#holders.has(id)
  }

  forget(id: number): void {
    this.#holders.delete(id)
  }

  /**
   * The entries of `update` (an awareness update published by process `from`) that `from` may
   * speak for, re-encoded; null when none. `local` tells the ids this process's connections and
   * the room itself speak for. Throws on a malformed update.
   */
  admit(update: Uint8Array, from: string, local: (id: number) => boolean): Uint8Array | null {
    const d = decoding.createDecoder(update)
    const kept: Array<[number, number, string]> = []
    for (let i = decoding.readVarUint(d); i > 0; i--) {
      const id = decoding.readVarUint(d)
      const clock = decoding.readVarUint(d)
      const state = decoding.readVarString(d)
      const holder = this.#holders.get(id)
      if (local(id) || (holder !== undefined && holder !== from)) continue
      if (state === 'null') this.#holders.delete(id)
      else if (holder === undefined) {
        if (this.#holders.size >= this.max) continue
        this.#holders.set(id, from)
      }
      kept.push([id, clock, state])
    }
    if (kept.length === 0) return null
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, kept.length)
    for (const [id, clock, state] of kept) {
      encoding.writeVarUint(e, id)
      encoding.writeVarUint(e, clock)
      encoding.writeVarString(e, state)
    }
    return encoding.toUint8Array(e)
  }
}
