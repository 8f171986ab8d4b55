import type { IncomingMessage } from 'node:http'
import type * as Y from 'yjs'
import { docName, meReadsOf, parseDocName } from '@circlechat/model'
import type { MessageChange, Principal } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { UNREAD_ORIGIN, advanceUnread, conversationIdsOf, peopleOf, refreshUnread } from './unread.js'
import type { UnreadFanout, UnreadWork } from './unread-bus.js'

type Deps = Pick<Gateway, 'db' | 'sync'>

/**
 * Messages remembered for skipping no-op updates (reactions, thread counts: most updates land on
 * recent messages); ~100 B each, so ~400 KB at most. A forgotten one costs one recount.
 */
const SEEN_LIMIT = 4_096

/**
 * Keeps every member's `unread` map current in real time, from two sources:
 *  - the change feed: a new top-level message advances the figure of every member of its
 *    conversation by the rows added since (services/unread.ts); an edit or a delete (which may
 *    change a mention or an old message's count) recounts them;
 *  - read markers: members write `reads` in their own `me:` doc over sync. The tracker observes
 *    the `reads` map of each me doc instance it sees. A member can only write that doc through a
 *    connection, and every connection passes `onSyncUpgrade`, which loads the doc (the same
 *    instance the connection will get) and attaches the observer before the connection's first
 *    update is applied. A connected doc is never evicted; an evicted one is destroyed and the next
 *    connection brings a new instance through here again. So no hook in the relay is needed.
 * Work is coalesced per conversation and member within one event-loop turn, and at most one
 * pass per conversation runs at a time, so a burst of posts costs one pass, not one each.
 *
 * With a cluster (`start`'s fanout) a member's figures are written only by the process that owns
 * their me doc, inside its transaction on that very instance: it alone holds the fresh marker and
 * figure, and its memory of what each figure was counted from (services/unread.ts) is then never
 * stale. The conversation's owner (where the change feed fires) sends each commit's work to every
 * process (services/unread-bus.ts); a process observes markers, and heals all figures, of the me
 * docs it takes (`onDocOwned`) instead of those its connections open. A me doc nobody holds is
 * healed by whichever process loads it next.
 */
export class UnreadTracker {
  #deps: Deps | null = null
  #unsubscribe: (() => void) | null = null
  #observed = new WeakSet<Y.Doc>()
  /** conversation → members to recount (`all`: every person of it), and whether to advance the rest. */
  #dirty = new Map<string, Work>()
  #running = new Set<string>()
  #scheduled = false
  #idle: Array<() => void> = []
  /** message id → `deleted|editedAt` last seen on the feed (bounded; unknown ids recompute). */
  #seen = new Map<string, string>()
  /** Cluster only: where each commit's work goes, and the me docs this process owns (by member). */
  #fanout: UnreadFanout | null = null
  #owned: Map<string, Y.Doc> | null = null
  #unsubscribeOwned: (() => void) | null = null

  start(deps: Deps, fanout?: UnreadFanout): this {
    this.#deps = deps
    this.#unsubscribe = deps.sync.onMessageChange((change) => this.#onChange(change))
    if (fanout) {
      this.#fanout = fanout
      this.#owned = new Map()
      this.#unsubscribeOwned = deps.sync.onDocOwned((name, doc) => this.#onOwned(name, doc))
    }
    return this
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribeOwned?.()
    this.#unsubscribe = this.#unsubscribeOwned = null
    this.#deps = null
  }

  /** Cluster: the work of a commit on any process (from the fanout), for the me docs owned here. */
  receive(conversationId: string, work: UnreadWork): void {
    if (this.#deps) this.#mark(conversationId, work)
  }

  /**
   * Call from the sync server's `authenticate` with the resolved principal; returns it unchanged.
   * Only the member's own me doc is watched (the only one the relay will let them open).
   */
  onSyncUpgrade(req: IncomingMessage, principal: Principal | null): Principal | null {
    if (!principal || !this.#deps || this.#owned) return principal // cluster: #onOwned
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/sync\//, ''))
    const parsed = parseDocName(name)
    if (parsed?.kind === 'me' && parsed.memberId === principal.memberId) void this.watch(principal.memberId).catch(logFailure)
    return principal
  }

  /**
   * Observes the member's read markers and recomputes all their figures once (heals anything
   * missed while the doc was not observed: markers written before, messages while stopped).
   */
  async watch(memberId: string): Promise<void> {
    const deps = this.#deps
    if (!deps) return
    this.#observe(deps, memberId, await deps.sync.getDoc(docName.me(memberId)))
  }

  #observe(deps: Deps, memberId: string, doc: Y.Doc) {
    if (this.#observed.has(doc)) return
    this.#observed.add(doc)
    meReadsOf(doc).observe((event) => {
      if (event.transaction.origin === UNREAD_ORIGIN) return
      for (const conversationId of event.keysChanged) this.#mark(conversationId, { memberId })
    })
    for (const conversationId of conversationIdsOf(deps.db, memberId)) this.#mark(conversationId, { memberId })
  }

  /** Cluster: this process took a me doc; it keeps that member's figures while the instance lives. */
  #onOwned(name: string, doc: Y.Doc) {
    const parsed = parseDocName(name)
    const owned = this.#owned
    if (parsed?.kind !== 'me' || !owned || !this.#deps) return
    const { memberId } = parsed
    owned.set(memberId, doc)
    doc.once('destroy', () => owned.get(memberId) === doc && owned.delete(memberId))
    this.#observe(this.#deps, memberId, doc)
  }

  /** Resolves once no recompute is queued or running (tests and benchmarks). */
  idle(): Promise<void> {
    if (!this.#scheduled && this.#running.size === 0 && this.#dirty.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #onChange(change: MessageChange) {
    const m = change.message
    if (m.parentId) return // thread replies are not unread in the conversation
    // Only a new message, a delete or an edit (which may change mentions) moves a figure.
    // Reactions and thread counts are most updates; skip them when the message is known.
    const signature = `${m.deleted}|${m.editedAt ?? ''}`
    const known = this.#seen.get(m.id)
    this.#seen.delete(m.id)
    this.#seen.set(m.id, signature) // re-inserted: the Map's order is least recently seen first
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.keys().next().value!)
    if (change.kind === 'updated' && known === signature) return
    const work = change.kind === 'created' ? 'advance' : 'all'
    if (this.#fanout) this.#fanout.publish(change.conversationId, work) // to every process, this one too
    else this.#mark(change.conversationId, work)
  }

  /** One member to recount, `all` to recount every person, or `advance` them for new messages. */
  #mark(conversationId: string, what: { memberId: string } | 'all' | 'advance') {
    let work = this.#dirty.get(conversationId)
    if (!work) this.#dirty.set(conversationId, (work = { all: false, advance: false, members: new Set() }))
    if (what === 'all') work.all = true
    else if (what === 'advance') work.advance = true
    else work.members.add(what.memberId)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#flush())
    }
  }

  #flush() {
    this.#scheduled = false
    for (const [conversationId, work] of [...this.#dirty]) {
      if (this.#running.has(conversationId)) continue // rerun when the current pass ends
      this.#dirty.delete(conversationId)
      this.#running.add(conversationId)
      void this.#recompute(conversationId, work)
        .catch(logFailure)
        .finally(() => {
          this.#running.delete(conversationId)
          if (this.#dirty.has(conversationId) && !this.#scheduled) {
            this.#scheduled = true
            setImmediate(() => this.#flush())
          }
          this.#settle()
        })
    }
    this.#settle()
  }

  async #recompute(conversationId: string, work: Work) {
    const deps = this.#deps
    if (!deps) return
    const ids = new Set(work.all || work.advance ? peopleOf(deps.db, conversationId) : [])
    for (const memberId of work.members) ids.add(memberId)
    const owned = this.#owned
    // All at once: the relay group-commits writes queued in one turn into one SQLite transaction.
    await Promise.all([...ids].map(async (memberId) => {
      const only = owned?.get(memberId)
      if (owned && !only) return // cluster: another process's member, or nobody's
      if (work.all || work.members.has(memberId)) await refreshUnread(deps, memberId, conversationId, only)
      else await advanceUnread(deps, memberId, conversationId, only)
      // A me doc the server loaded itself (not through a connection) is watched from here on.
      if (!owned && !this.#observed.has(await deps.sync.getDoc(docName.me(memberId)))) await this.watch(memberId)
    }))
  }

  #settle() {
    if (this.#scheduled || this.#running.size > 0 || this.#dirty.size > 0) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}

interface Work { all: boolean; advance: boolean; members: Set<string> }

const logFailure = (err: unknown) => console.error('unread: recompute failed', err)
