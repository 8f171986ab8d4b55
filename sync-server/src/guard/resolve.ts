import * as Y from 'yjs'
import { rejectReason as R } from '@circlechat/protocol'
import { refuse } from './verdict.js'

/**
 * Resolving what an update will do, exactly as Yjs will do it, without applying it.
 *
 * Cloning a 5k-message doc to trial-apply costs ~200 ms (≈5 posts/s); decoding a one-message
 * update is ~19 µs. So we decode the update and resolve every struct through the server's live
 * doc plus the update itself: cost O(size of the update), not O(size of the doc).
 *
 * Decoding is only safe if nothing Yjs does on apply escapes the check. Yjs parks structs whose
 * dependencies it lacks (`pendingStructs`) and delete ranges beyond its state (`pendingDs`), and
 * applies them later, unchecked, when another update fills the gap. So an update is accepted
 * only if every struct's origin, right origin and parent, and every delete range, resolves
 * against the server's state plus the update, in an order Yjs can integrate: then nothing is
 * left pending. Skip structs (gaps) are refused; GC structs only fill clocks, and nothing may
 * refer to them.
 */

/** root → message map → reactions map → key is depth 2; nothing we store is deeper. */
export const MAX_DEPTH = 3
/** Structs in one update: a day of offline work in one conversation is a few thousand. */
export const MAX_STRUCTS = 20_000
/** Client ids in one update: one per page load that wrote offline. */
export const MAX_CLIENTS = 32

export class Unresolvable extends Error {}

/** A container item (its content is a Y type), either already in the doc or new here. */
export interface NodeRef {
  id: Y.ID
  live: Y.Item | null
  fresh: Y.Item | null
}

/** Where an item sits: the root type, the chain of container items down to its parent, the key. */
export interface Loc {
  root: string
  chain: NodeRef[]
  sub: string | null
}

/** The new items of one update written under one key of one map, with what Yjs will make of them. */
export interface KeyWrite {
  loc: Loc
  /** New items for the key: in chain order when they form one, else in update order. */
  items: Y.Item[]
  /** Each item's origin is the one before it: an edit made on top of the previous edit. */
  chain: boolean
  /** The outcome is certain: a chain on top of the key's current value, so its last item wins. */
  certain: boolean
  /** Live items of this key (its current value) deleted by the update. */
  liveDeletes: Y.Item[]
  /** The key has a value now and may end with none. */
  mayRemove: boolean
}

const idKey = (id: Y.ID) => `${id.client}:${id.clock}`
export const lastId = (item: Y.Item) => Y.createID(item.id.client, item.id.clock + item.length - 1)
const sameId = (a: Y.ID | null, b: Y.ID | null) => a === b || (a !== null && b !== null && a.client === b.client && a.clock === b.clock)

/** The container a location is inside (null for a root). */
export const containerOf = (loc: Loc): NodeRef | null => loc.chain[loc.chain.length - 1] ?? null
const containerKey = (loc: Loc) => {
  const c = containerOf(loc)
  return c ? `item:${idKey(c.id)}` : `root:${loc.root}`
}
const sameLoc = (a: Loc, b: Loc) => a.root === b.root && a.sub === b.sub && a.chain.length === b.chain.length && a.chain.every((n, i) => sameId(n.id, b.chain[i]!.id))

/** The Y type a container holds. */
export const typeOf = (node: NodeRef) => ((node.live ?? node.fresh)!.content as Y.ContentType).type

export class UpdateIndex {
  readonly doc: Y.Doc
  /** Structs new to the server, in an order Yjs can integrate them. */
  readonly items: Y.Item[] = []
  readonly gcs: Y.GC[] = []
  /** New items this update also deletes (they integrate, then vanish). */
  readonly deletedFresh = new Set<Y.Item>()
  /** Live, not yet deleted items this update deletes. */
  readonly deletedLive: Y.Item[] = []
  readonly clients: number[] = []
  /** Per deleted live item, the clock spans the update deletes of it (ranges may overlap). */
  #liveSpans = new Map<Y.Item, Array<[number, number]>>()
  #structsByClient = new Map<number, Array<Y.Item | Y.GC>>()
  #locs = new Map<Y.Item, Loc>()

  constructor(doc: Y.Doc, update: Uint8Array) {
    this.doc = doc
    const { structs, ds } = Y.decodeUpdate(update)
    if (structs.length > MAX_STRUCTS) refuse(R.tooLarge, `updates hold at most ${MAX_STRUCTS} structs`)
    this.#group(structs)
    this.#integrateInOrder()
    this.#resolveDeletes(ds)
  }

  /** Structs per client, contiguous and gap-free, starting no later than the server's state. */
  #group(structs: Array<Y.Item | Y.GC | Y.Skip>) {
    let current: Array<Y.Item | Y.GC> | null = null
    let currentClient = -1
    for (const s of structs) {
      if (s instanceof Y.Skip) throw new Unresolvable('the update skips clocks; re-sync first')
      const client = s.id.client
      if (client !== currentClient) {
        if (this.#structsByClient.has(client)) refuse(R.malformed, `client ${client} appears twice`)
        if (this.#structsByClient.size >= MAX_CLIENTS) refuse(R.tooLarge, `updates hold at most ${MAX_CLIENTS} client ids`)
        current = []
        this.#structsByClient.set(client, current)
        this.clients.push(client)
        currentClient = client
        if (s.id.clock > Y.getState(this.doc.store, client)) throw new Unresolvable(`client ${client} skips clocks; re-sync first`)
      } else {
        const prev = current![current!.length - 1]!
        if (s.id.clock !== prev.id.clock + prev.length) throw new Unresolvable(`client ${client} skips clocks; re-sync first`)
      }
      if (s.length < 1) refuse(R.malformed, 'empty struct')
      const state = Y.getState(this.doc.store, client)
      if (s instanceof Y.Item && s.id.clock < state && s.id.clock + s.length > state) throw new Unresolvable('the update overlaps what the server has; re-sync first')
      current!.push(s)
    }
  }

  /**
   * Walks the structs in an order Yjs can integrate them (each client's in clock order, a
   * struct only once every struct it refers to is known), locating each new item as it goes.
   * Whatever cannot be reached this way would be parked as pending: refuse.
   */
  #integrateInOrder() {
    const state = new Map<number, number>()
    for (const client of this.clients) state.set(client, Y.getState(this.doc.store, client))
    const known = (id: Y.ID) => id.clock < (state.get(id.client) ?? Y.getState(this.doc.store, id.client))
    const next = new Map<number, number>(this.clients.map((c) => [c, 0]))
    let progress = true
    while (progress) {
      progress = false
      for (const client of this.clients) {
        const list = this.#structsByClient.get(client)!
        let i = next.get(client)!
        while (i < list.length) {
          const s = list[i]!
          if (s instanceof Y.Item && !this.#refsKnown(s, known)) break
          const isNew = s.id.clock + s.length > Y.getState(this.doc.store, client)
          if (isNew) {
            if (s instanceof Y.Item) {
              this.#locs.set(s, this.#locate(s))
              this.items.push(s)
            } else {
              this.gcs.push(s)
            }
            state.set(client, s.id.clock + s.length)
          }
          i++
          progress = true
        }
        next.set(client, i)
      }
    }
    for (const client of this.clients) {
      if (next.get(client)! < this.#structsByClient.get(client)!.length) throw new Unresolvable('the update depends on changes the server does not have; re-sync first')
    }
  }

  #refsKnown(item: Y.Item, known: (id: Y.ID) => boolean): boolean {
    const parent = item.parent as unknown
    for (const ref of [item.origin, item.rightOrigin, parent instanceof Y.ID ? parent : null]) {
      if (ref === null) continue
      // Yjs does not wait for its own client's clocks: a reference forward in the same
      // client would be looked up before it exists and throw mid-transaction.
      if (ref.client === item.id.client ? ref.clock >= item.id.clock : !known(ref)) {
        if (ref.client === item.id.client) throw new Unresolvable('an item refers to a later one of its own client')
        return false
      }
    }
    return true
  }

  /** The struct (new in this update, or live in the doc) containing `id`. */
  #find(id: Y.ID): { live: Y.Item | null; fresh: Y.Item | null } {
    const list = this.#structsByClient.get(id.client)
    if (list && list.length > 0 && id.clock >= list[0]!.id.clock) {
      let lo = 0
      let hi = list.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (list[mid]!.id.clock <= id.clock) lo = mid
        else hi = mid - 1
      }
      const s = list[lo]!
      const isNew = s.id.clock + s.length > Y.getState(this.doc.store, id.client)
      if (id.clock < s.id.clock + s.length && isNew) {
        if (!(s instanceof Y.Item)) throw new Unresolvable('an item refers to garbage-collected content')
        return { live: null, fresh: s }
      }
    }
    if (id.clock < Y.getState(this.doc.store, id.client)) {
      const s = Y.getItem(this.doc.store, id)
      if (s instanceof Y.Item) return { live: s, fresh: null }
      throw new Unresolvable('an item refers to garbage-collected content')
    }
    throw new Unresolvable(`item ${idKey(id)} is unknown`)
  }

  /** Location of a live item, from its integrated parent pointers. */
  liveLoc(item: Y.Item): Loc {
    const chain: NodeRef[] = []
    let type = item.parent as Y.AbstractType<unknown>
    while (type._item !== null) {
      if (chain.length >= MAX_DEPTH) refuse(R.invalidField, 'nested too deep')
      chain.unshift({ id: type._item.id, live: type._item, fresh: null })
      type = type._item.parent as Y.AbstractType<unknown>
    }
    return { root: Y.findRootTypeKey(type), chain, sub: item.parentSub }
  }

  /** Location of a new item. Encoded items carry a parent only when they have no origin;
   *  otherwise Yjs takes the parent and key from the left origin, else the right one. */
  #locate(item: Y.Item): Loc {
    const at = (id: Y.ID): Loc => {
      const ref = this.#find(id)
      return ref.live ? this.liveLoc(ref.live) : this.#locs.get(ref.fresh!)!
    }
    if (item.origin || item.rightOrigin) {
      const left = item.origin ? at(item.origin) : null
      const right = item.rightOrigin ? at(item.rightOrigin) : null
      if (left && right && !sameLoc(left, right)) throw new Unresolvable('origins lie in different places')
      return (left ?? right)!
    }
    const parent = item.parent as unknown
    if (typeof parent === 'string') return { root: parent, chain: [], sub: item.parentSub }
    if (!(parent instanceof Y.ID)) throw new Unresolvable('item has neither parent nor origin')
    const ref = this.#find(parent)
    const container = (ref.live ?? ref.fresh)!
    if (!(container.content instanceof Y.ContentType)) throw new Unresolvable('parent is not a type')
    const up = ref.live ? this.liveLoc(ref.live) : this.#locs.get(ref.fresh!)!
    if (up.chain.length >= MAX_DEPTH) refuse(R.invalidField, 'nested too deep')
    return { root: up.root, chain: [...up.chain, { id: container.id, ...ref }], sub: item.parentSub }
  }

  /** Location of a new item of this update. */
  loc(item: Y.Item): Loc {
    return this.#locs.get(item)!
  }

  /** Every delete range must lie within what the server has plus this update. */
  #resolveDeletes(ds: ReturnType<typeof Y.decodeUpdate>['ds']) {
    let visited = 0
    for (const [client, ranges] of ds.clients) {
      const state = Y.getState(this.doc.store, client)
      const list = this.#structsByClient.get(client) ?? []
      const last = list[list.length - 1]
      const knownEnd = Math.max(state, last ? last.id.clock + last.length : 0)
      const structs = this.doc.store.clients.get(client)
      for (const { clock, len } of ranges) {
        if (len <= 0) continue
        if (clock + len > knownEnd) throw new Unresolvable('the update deletes changes the server does not have; re-sync first')
        const liveEnd = Math.min(clock + len, state)
        if (structs && clock < liveEnd) {
          for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
            const s = structs[i]!
            if (s.id.clock >= liveEnd) break
            if (++visited > MAX_STRUCTS) refuse(R.tooLarge, 'the update deletes too much at once')
            if (s instanceof Y.Item && !s.deleted) {
              let spans = this.#liveSpans.get(s)
              if (!spans) {
                this.#liveSpans.set(s, (spans = []))
                this.deletedLive.push(s)
              }
              spans.push([Math.max(clock, s.id.clock), Math.min(liveEnd, s.id.clock + s.length)])
            }
          }
        }
        for (const s of list) {
          if (s.id.clock + s.length <= Math.max(clock, state) || s.id.clock >= clock + len) continue
          if (++visited > MAX_STRUCTS) refuse(R.tooLarge, 'the update deletes too much at once')
          if (s instanceof Y.Item) this.deletedFresh.add(s)
        }
      }
    }
  }

  /** How many of a deleted live item's clocks (for text, characters) the update deletes. */
  deletedLength(item: Y.Item): number {
    const spans = [...(this.#liveSpans.get(item) ?? [])].sort((a, b) => a[0] - b[0])
    let total = 0
    let reached = -Infinity
    for (const [from, to] of spans) {
      const start = Math.max(from, reached)
      if (to > start) total += to - start
      reached = Math.max(reached, to)
    }
    return total
  }

  /** Deleted by this update, or holding no content (Yjs integrates ContentDeleted as deleted). */
  endsDeleted(item: Y.Item): boolean {
    return this.deletedFresh.has(item) || item.content instanceof Y.ContentDeleted
  }

  /**
   * New items and deleted live items grouped by the map key they write, with what Yjs will
   * make of each group. Two items for one key that are not a chain would race: only one wins
   * the key, so the outcome would not be the one checked — refused (`duplicateKey`).
   */
  keyWrites(): KeyWrite[] {
    const groups = new Map<string, KeyWrite>()
    const group = (loc: Loc) => {
      const k = `${containerKey(loc)}|${loc.sub}`
      let g = groups.get(k)
      if (!g) groups.set(k, (g = { loc, items: [], chain: true, certain: true, liveDeletes: [], mayRemove: false }))
      return g
    }
    for (const item of this.items) {
      const loc = this.loc(item)
      if (loc.sub !== null) group(loc).items.push(item)
    }
    for (const item of this.deletedLive) {
      if (item.parentSub !== null) group(this.liveLoc(item)).liveDeletes.push(item)
    }
    for (const g of groups.values()) {
      const container = containerOf(g.loc)
      const containerType = container ? typeOf(container) : (this.doc.share.get(g.loc.root) ?? null)
      const current = containerType?._map.get(g.loc.sub!) ?? null
      if (g.items.length > 0) {
        const ordered = chainOrder(g.items)
        g.chain = ordered !== null
        if (ordered) g.items = ordered
        const first = g.items[0]!
        g.certain = g.chain && g.items.every((i) => i.rightOrigin === null) && sameId(first.origin, current ? lastId(current) : null)
      } else {
        g.certain = false
      }
      // A key that has a value may lose it: deleted outright, or replaced by an item that
      // ends deleted. A certain chain ends with its last item, whatever came before.
      const last = g.items[g.items.length - 1]
      const hasValue = current !== null && !current.deleted
      g.mayRemove = hasValue && (g.certain ? this.endsDeleted(last!) : g.liveDeletes.length > 0 || g.items.some((i) => this.endsDeleted(i)))
    }
    return [...groups.values()]
  }
}

/** The items ordered as a chain (each one's origin is the previous one's last id), or null. */
function chainOrder(items: Y.Item[]): Y.Item[] | null {
  if (items.length === 1) return items
  const byLast = new Map(items.map((i) => [idKey(lastId(i)), i]))
  const after = new Map<Y.Item, Y.Item>()
  let first: Y.Item | null = null
  for (const item of items) {
    const prev = item.origin ? byLast.get(idKey(item.origin)) : undefined
    if (prev) {
      if (after.has(prev)) return null
      after.set(prev, item)
    } else if (first) {
      return null
    } else {
      first = item
    }
  }
  const out: Y.Item[] = []
  for (let cur: Y.Item | undefined = first ?? undefined; cur; cur = after.get(cur)) out.push(cur)
  return out.length === items.length ? out : null
}

/** The single plain value a map entry item holds, or `undefined` if it is not one. */
export function plainValue(item: Y.Item): unknown {
  if (item.length !== 1) return undefined
  if (item.content instanceof Y.ContentAny || item.content instanceof Y.ContentJSON) return item.content.getContent()[0]
  return undefined
}

export const isNewMap = (item: Y.Item) => item.content instanceof Y.ContentType && item.content.type instanceof Y.Map
