import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import { messageType } from '@circlechat/protocol'

export interface PresenceTiming {
  /** Transitions (added, changed, removed states) wait at most this long, batched. */
  flushMs: number
  /** Renewals (a clock bump, same state) wait at most this long, batched; see config.ts. */
  renewMs: number
}

/**
 * Presence fan-out for one room. The room's Awareness stays the source of truth (a new socket is
 * greeted with all of it); this only decides *when* its entries go out. Client ids whose state
 * really changed ('change' event) are flushed within `flushMs`; ids that only renewed ('update'
 * without 'change') within `renewMs`, riding along with any earlier flush. Each flush is one
 * encoded awareness update, the same bytes to every socket: one frame per socket per flush,
 * whatever the number of changes, instead of one per change per socket.
 *
 * Renewals cannot be dropped altogether: stock y-protocols clients remove a peer whose clock has
 * not moved for 30 s, and y-websocket reconnects when nothing arrived for 30 s.
 */
export class PresenceFanout {
  readonly #awareness: awarenessProtocol.Awareness
  readonly #send: (bytes: Uint8Array) => void
  readonly #timing: PresenceTiming
  readonly #pending = new Set<number>()
  #changed = new Set<number>()
  /** The last few flushes' awareness payloads: an echo of a batch is usually byte-identical. */
  readonly #recent: Buffer[] = []
  #timer: NodeJS.Timeout | null = null
  #due = Infinity
  #stopped = false

  constructor(awareness: awarenessProtocol.Awareness, send: (bytes: Uint8Array) => void, timing: PresenceTiming) {
    this.#awareness = awareness
    this.#send = send
    this.#timing = timing
    // y-protocols emits 'change' (real changes only) before 'update' (also renewals) for the
    // same call, so an id is a renewal when 'update' names it and 'change' just did not.
    awareness.on('change', ({ added, updated, removed }: AwarenessChange) => {
      this.#changed = new Set([...added, ...updated, ...removed])
      for (const id of this.#changed) this.#pending.add(id)
      this.#schedule(this.#timing.flushMs)
    })
    awareness.on('update', ({ added, updated, removed }: AwarenessChange) => {
      const renewed = [...added, ...updated, ...removed].filter((id) => !this.#changed.has(id))
      this.#changed = new Set()
      if (renewed.length === 0) return
      for (const id of renewed) this.#pending.add(id)
      this.#schedule(this.#timing.renewMs)
    })
    // Awareness.destroy() emits 'destroy', then clears the local state (a 'change'): ignore it.
    awareness.on('destroy', () => this.stop())
  }

  /** Sends the pending ids now (if any), as one awareness message. */
  flush() {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#due = Infinity
    if (this.#stopped || this.#pending.size === 0) return
    const ids = [...this.#pending]
    this.#pending.clear()
    const payload = awarenessProtocol.encodeAwarenessUpdate(this.#awareness, ids)
    this.#recent.push(Buffer.from(payload))
    if (this.#recent.length > RECENT_FLUSHES) this.#recent.shift()
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, messageType.awareness)
    encoding.writeVarUint8Array(e, payload)
    this.#send(encoding.toUint8Array(e))
  }

  /**
   * True when applying `update` would change nothing (see changesNothing). A byte-for-byte copy
   * of a recent flush is checked first: comparing bytes is far cheaper than decoding a batch of
   * a thousand states once per socket per flush.
   */
  changesNothing(update: Uint8Array): boolean {
    for (const sent of this.#recent) {
      if (sent.byteLength === update.byteLength && sent.equals(update) && changesNothingCached(sent, this.#awareness)) return true
    }
    return changesNothing(this.#awareness, update)
  }

  stop() {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#pending.clear()
    this.#recent.length = 0
  }

  /** Flushes within `delay` of now; an earlier deadline already set stands. */
  #schedule(delay: number) {
    if (this.#stopped) return
    const at = Date.now() + delay
    if (at >= this.#due) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#due = at
    this.#timer = setTimeout(() => this.flush(), delay)
    this.#timer.unref()
  }
}

const RECENT_FLUSHES = 4

/**
 * A flush stays a no-op until one of its ids moves on (and then it is further behind: still a
 * no-op) — except a removal, which a re-added state at the same clock would turn into a real
 * removal. So a cached flush counts as an echo only while no id it removed has a state again.
 */
const removalsOf = new WeakMap<Buffer, number[]>()
function changesNothingCached(sent: Buffer, awareness: awarenessProtocol.Awareness): boolean {
  let removed = removalsOf.get(sent)
  if (!removed) {
    removed = []
    const d = decoding.createDecoder(sent)
    for (let n = decoding.readVarUint(d); n > 0; n--) {
      const id = decoding.readVarUint(d)
      decoding.readVarUint(d)
      if (decoding.readVarString(d) === 'null') removed.push(id)
    }
    removalsOf.set(sent, removed)
  }
  return removed.every((id) => !awareness.states.has(id))
}

interface AwarenessChange { added: number[]; updated: number[]; removed: number[] }

/**
 * True when applying `update` to `awareness` would change nothing: every entry is at or behind
 * the clock already known (a removal at the same clock only of a state already gone). y-websocket
 * clients send back every awareness update they apply, so each flush comes back once from every
 * socket; those echoes are dropped before the size and rate limits and the ownership checks, which they
 * would otherwise fail (the ids are other connections') or pass wrongly (a departed peer's id,
 * which the echoing connection would then claim, shutting out the peer when it reconnects).
 * Throws on a malformed update, like applyAwarenessUpdate.
 */
export function changesNothing(awareness: awarenessProtocol.Awareness, update: Uint8Array): boolean {
  const d = decoding.createDecoder(update)
  const count = decoding.readVarUint(d)
  for (let i = 0; i < count; i++) {
    const id = decoding.readVarUint(d)
    const clock = decoding.readVarUint(d)
    const state = decoding.readVarString(d)
    const known = awareness.meta.get(id)?.clock
    if (known === undefined || clock > known) return false
    if (clock === known && state === 'null' && awareness.states.has(id)) return false
  }
  return true
}
