import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DocStore } from '../src/persistence/store.js'

type Write = (tx: never) => void | Promise<void>

/**
 * One backend of the store contract: a real database that outlives the stores opened on it,
 * and the few writes the suite makes inside a store's transaction (dialect-specific, as the
 * relay's index writes are).
 */
export interface StoreBackend<W extends Write> {
  /** Opens a store on the backend's database with a connection of its own. */
  open(): Promise<{ store: DocStore<W>; close: () => Promise<void> }>
  /** Writes the doc_clients row (doc, client) inside the transaction; then throws if `fail`. */
  bind(doc: string, client: number, fail?: boolean): W
  /** The committed doc_clients of `doc`, read on another connection. */
  bound(doc: string): Promise<number[]>
  /** Counts `doc`'s update rows inside the transaction and, at the same moment, on another connection. */
  probe(doc: string, seen: (inside: number, outside: number) => void): W
  destroy(): Promise<void>
}

const u = (...bytes: number[]) => new Uint8Array(bytes)
const list = (updates: Uint8Array[]) => updates.map((x) => [...x])

/** The DocStore contract (store.ts), run by each backend's test file. */
export function storeContract<W extends Write>(name: string, backend: () => Promise<StoreBackend<W>>) {
  describe(`DocStore contract: ${name}`, () => {
    let b: StoreBackend<W>
    let open: Awaited<ReturnType<StoreBackend<W>['open']>>
    let store: DocStore<W>
    let n = 0
    // Each test its own docs, so the tests share one database.
    const doc = (kind = 'conv') => `${kind}:c_${++n}:0`

    beforeAll(async () => {
      b = await backend()
      open = await b.open()
      store = open.store
    })
    afterAll(async () => {
      await open?.close()
      await b?.destroy()
    })

    async function reopen() {
      await open.close()
      open = await b.open()
      store = open.store
    }

    it('an acknowledged update is readable after reopening, in append order', async () => {
      const d = doc()
      const other = doc()
      const acks = []
      for (let i = 0; i < 50; i++) acks.push(store.appendUpdate(i % 3 === 0 ? other : d, u(i, i >> 8)))
      await Promise.all(acks)
      await reopen()
      const mine = [...Array(50).keys()].filter((i) => i % 3 !== 0).map((i) => [i, i >> 8])
      expect(list(await store.loadDoc(d))).toEqual(mine)
      expect(list(await store.loadDoc(other))).toEqual([...Array(50).keys()].filter((i) => i % 3 === 0).map((i) => [i, i >> 8]))
      expect(await store.loadDoc(doc())).toEqual([])
    })

    it('keeps order across batches: appends made while one commits land after it', async () => {
      const d = doc()
      const first = store.appendUpdate(d, u(1))
      await Promise.resolve()
      const later = [store.appendUpdate(d, u(2)), store.appendUpdate(d, u(3))]
      await first
      const last = store.appendUpdate(d, u(4))
      await Promise.all([...later, last])
      expect(list(await store.loadDoc(d))).toEqual([[1], [2], [3], [4]])
    })

    it('close settles appends still queued, and they survive', async () => {
      const d = doc()
      const pending = [store.appendUpdate(d, u(7)), store.appendUpdate(d, u(8))]
      await open.close()
      await expect(Promise.all(pending)).resolves.toBeDefined()
      open = await b.open()
      store = open.store
      expect(list(await store.loadDoc(d))).toEqual([[7], [8]])
    })

    it('compaction replaces exactly the updates queued before it, and only that doc', async () => {
      const d = doc()
      const other = doc()
      await store.appendUpdate(d, u(1))
      await store.appendUpdate(other, u(9))
      const queued = store.appendUpdate(d, u(2))
      const compacted = store.compact(d, u(1, 2))
      const after = store.appendUpdate(d, u(3))
      await Promise.all([queued, compacted, after])
      expect(list(await store.loadDoc(d))).toEqual([[1, 2], [3]])
      expect(list(await store.loadDoc(other))).toEqual([[9]])
      await reopen()
      expect(list(await store.loadDoc(d))).toEqual([[1, 2], [3]])
    })

    it('lists stored docs by prefix, with no wildcard in a name', async () => {
      const p = `t${++n}`
      const names = [`conv:${p}_a:0`, `conv:${p}_a:1`, `conv:${p}xa:0`, `board:${p}_a`, `conv:${p}%:0`]
      for (const name of names) await store.appendUpdate(name, u(1))
      await store.appendUpdate(names[0]!, u(2))
      expect((await store.listDocs(`conv:${p}_a:`)).sort()).toEqual([`conv:${p}_a:0`, `conv:${p}_a:1`])
      expect((await store.listDocs(`conv:${p}%`)).sort()).toEqual([`conv:${p}%:0`])
      expect((await store.listDocs(`conv:${p}`)).sort()).toEqual([`conv:${p}%:0`, `conv:${p}_a:0`, `conv:${p}_a:1`, `conv:${p}xa:0`])
      expect(await store.listDocs(`nothing:${p}`)).toEqual([])
      expect(await store.listDocs('')).toEqual(expect.arrayContaining(names))
    })

    it('groups concurrent appends into one transaction, committed only at its end', async () => {
      const d = doc()
      const seen: Array<[number, number]> = []
      const acks = []
      for (let i = 0; i < 20; i++) acks.push(store.appendUpdate(d, u(i), b.probe(d, (inside, outside) => seen.push([inside, outside]))))
      await Promise.all(acks)
      // Each append's write sees its own and every earlier append of its batch, which no other
      // connection sees: nothing is committed until the whole batch is.
      expect(seen.length).toBe(20)
      seen.forEach(([inside, outside], i) => expect({ i, outside, atLeastOwn: inside >= i + 1 }).toEqual({ i, outside: 0, atLeastOwn: true }))
      expect(seen.at(-1)).toEqual([20, 0])
      expect((await store.loadDoc(d)).length).toBe(20)
    })

    it('writes alsoWrite in the same transaction as its update', async () => {
      const d = doc()
      await Promise.all([store.appendUpdate(d, u(1), b.bind(d, 11)), store.appendUpdate(d, u(2), b.bind(d, 12))])
      expect((await b.bound(d)).sort()).toEqual([11, 12])
    })

    it('a failing write rejects only its own append: its update and rows are not stored', async () => {
      const d = doc()
      const acks = [
        store.appendUpdate(d, u(1), b.bind(d, 1)),
        store.appendUpdate(d, u(2), b.bind(d, 2, true)),
        store.appendUpdate(d, u(3), b.bind(d, 3)),
        // A database error (the doc_clients primary key) rather than a throw.
        store.appendUpdate(d, u(4), b.bind(d, 1)),
        store.appendUpdate(d, u(5))
      ]
      const results = await Promise.allSettled(acks)
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'])
      expect(String((results[1] as PromiseRejectedResult).reason)).toContain('refused by the test')
      expect(list(await store.loadDoc(d))).toEqual([[1], [3], [5]])
      expect((await b.bound(d)).sort()).toEqual([1, 3])
      // The store keeps working after a failed batch.
      await store.appendUpdate(d, u(6))
      expect((await store.loadDoc(d)).length).toBe(4)
    })
  })
}

/** What a failing write throws. */
export function refused(): never {
  throw refusal()
}

/** The error `bind(…, true)` fails with. */
export function refusal(): Error {
  return new Error('refused by the test')
}
