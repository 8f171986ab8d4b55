import * as Y from 'yjs'
import * as random from 'lib0/random'
import { Awareness } from 'y-protocols/awareness'
import { messagesOf, type DocName } from '@circlechat/model'
import type { Connection } from './connection.js'
import type { ApplyingUpdate } from './guard/after-apply.js'
import { BoardWatch } from './board-watch.js'
import type { RoomRole } from './cluster/cluster.js'
import type { PresenceClaims } from './cluster/presence-claims.js'

/** Heap per encoded byte of a doc, and of a room itself (Y.Doc, Awareness, fan-out, maps):
 *  measured on Node 20 by bench/memory.ts (14–18× for segments and boards). */
const HEAP_PER_ENCODED_BYTE = 16
const ROOM_HEAP_BYTES = 16 * 1024

/**
 * One live document in memory with its connections and awareness. Collects the message maps each
 * transaction touched (observeDeep runs before the doc's 'update' event) for the message index.
 */
export class Room {
  readonly doc = new Y.Doc()
  readonly awareness: Awareness
  readonly conns = new Set<Connection>()
  /** Yjs client id → member id (OWN8), loaded from doc_clients. */
  readonly clientOwners = new Map<number, string>()
  /** The client update being applied right now, with what the guard decided about it. */
  applying: ApplyingUpdate | null = null
  /** Settles (never rejects) when the last update applied to this doc is durable or failed. */
  lastCommit: Promise<void> = Promise.resolve()
  /** The last update's append itself: rejects if it could not be stored. */
  lastAppend: Promise<void> = Promise.resolve()
  /** Updates applied in memory whose commit has not settled yet. */
  inflight = 0
  /** Memory may differ from storage: the room is being dropped and reloaded. */
  discarded = false
  updatesSinceCompact = 0
  lastUsed = Date.now()
  /** Encoded size of the doc: what was loaded (or the last snapshot) plus updates applied since. */
  encodedBytes = 0
  /** With a cluster: whether this process owns the doc or follows its owner; null alone. */
  role: RoomRole | null = null
  /** With a cluster: the awareness ids other processes speak for. */
  presenceClaims: PresenceClaims | null = null
  /** Follower: server-authored edits forwarded to the owner, one after another, under one Yjs
   *  client id of their own (not the doc's: Yjs moves a doc off an id it sees in an update). */
  forwardedEdits: Promise<void> = Promise.resolve()
  readonly editClient = random.uint32()
  /** Board docs: the tasks and comments each transaction touched (board-watch.ts). */
  readonly board: BoardWatch | null
  #created = new Set<Y.Map<unknown>>()
  #touched = new Set<Y.Map<unknown>>()

  constructor(readonly name: string, readonly parsed: DocName, readonly conversationId: string | null) {
    this.awareness = new Awareness(this.doc)
    this.awareness.setLocalState(null)
    this.board = parsed.kind === 'board' ? new BoardWatch(this.doc) : null
    if (parsed.kind === 'conv' || parsed.kind === 'thread') {
      const messages = messagesOf(this.doc)
      messages.observeDeep((events, transaction) => {
        for (const event of events) {
          if (event.target === messages) {
            this.#collectCreated(messages, transaction)
            continue
          }
          // A field of a message, or a key of its reactions map.
          let type: Y.AbstractType<unknown> | null = event.target
          while (type && type.parent !== messagesOf(this.doc)) type = type.parent as Y.AbstractType<unknown> | null
          if (type instanceof Y.Map) this.#touched.add(type)
        }
      })
    }
  }

  /**
   * The message maps this transaction inserted into the array, found among the structs it
   * created (each client's clocks from its state before to after) rather than through
   * `event.changes`, which walks the whole array: a 1,000-message segment on every post.
   */
  #collectCreated(messages: Y.Array<Y.Map<unknown>>, transaction: Y.Transaction) {
    for (const [client, after] of transaction.afterState) {
      const before = transaction.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = this.doc.store.clients.get(client)!
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const struct = structs[i]!
        if (struct instanceof Y.Item && struct.parent === messages && !struct.deleted && struct.content instanceof Y.ContentType && struct.content.type instanceof Y.Map) {
          this.#created.add(struct.content.type)
        }
      }
    }
  }

  /**
   * Estimated heap of the live doc, without encoding it: a 1,000-message segment of 209 KB holds
   * ~3.0 MiB (15×, loaded from one snapshot or from 1,000 updates alike), a 200-task board of
   * 185 KB ~3.2 MiB (18×), an empty room ~12 KiB.
   */
  get heapBytes(): number {
    return ROOM_HEAP_BYTES + this.encodedBytes * HEAP_PER_ENCODED_BYTE
  }

  /** Message maps created and changed since the last call. */
  takeChanges(): { created: Y.Map<unknown>[]; updated: Y.Map<unknown>[] } {
    const created = [...this.#created]
    const updated = [...this.#touched].filter((m) => !this.#created.has(m))
    this.#created.clear()
    this.#touched.clear()
    return { created, updated }
  }
}
