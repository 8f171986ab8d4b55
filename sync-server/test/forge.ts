import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'

/**
 * Struct-level surgery on Yjs updates, for forged input: decode an update into its structs and
 * delete set, change them, and encode them again with Yjs's own struct writers and encoder.
 */
export interface Structs {
  structs: Array<Y.Item | Y.GC | Y.Skip>
  ds: Map<number, Array<{ clock: number; len: number }>>
}

export function decode(update: Uint8Array): Structs {
  const { structs, ds } = Y.decodeUpdate(update)
  const out = new Map<number, Array<{ clock: number; len: number }>>()
  for (const [client, items] of ds.clients) out.set(client, items.map((d) => ({ clock: d.clock, len: d.len })))
  return { structs, ds: out }
}

/** Encodes structs as an update, one block per client in the order they first appear. */
export function encode({ structs, ds }: Structs): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  const blocks: Array<{ client: number; structs: Array<Y.Item | Y.GC | Y.Skip> }> = []
  for (const s of structs) {
    const last = blocks[blocks.length - 1]
    if (last && last.client === s.id.client) last.structs.push(s)
    else blocks.push({ client: s.id.client, structs: [s] })
  }
  encoding.writeVarUint(encoder.restEncoder, blocks.length)
  for (const block of blocks) {
    encoding.writeVarUint(encoder.restEncoder, block.structs.length)
    encoder.writeClient(block.client)
    encoding.writeVarUint(encoder.restEncoder, block.structs[0]!.id.clock)
    for (const s of block.structs) s.write(encoder, 0)
  }
  encoding.writeVarUint(encoder.restEncoder, ds.size)
  for (const [client, items] of ds) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, items.length)
    for (const { clock, len } of items) {
      encoder.writeDsClock(clock)
      encoder.writeDsLen(len)
    }
  }
  return encoder.toUint8Array()
}

/** A copy of `item` with other fields; `length` follows the content. */
export function withItem(item: Y.Item, change: Partial<{ id: Y.ID; origin: Y.ID | null; rightOrigin: Y.ID | null; parent: string | Y.ID | null; parentSub: string | null; content: Y.AbstractContent }>): Y.Item {
  const pick = <K extends keyof typeof change>(k: K, fallback: unknown) => (k in change ? change[k] : fallback)
  return new Y.Item(
    pick('id', item.id) as Y.ID, null, pick('origin', item.origin) as Y.ID | null, null, pick('rightOrigin', item.rightOrigin) as Y.ID | null,
    pick('parent', item.parent) as never, pick('parentSub', item.parentSub) as string | null, pick('content', item.content) as Y.AbstractContent
  )
}

/** Renumbers each client's structs to be contiguous from its first struct's clock. */
export function renumber(structs: Array<Y.Item | Y.GC | Y.Skip>): Array<Y.Item | Y.GC | Y.Skip> {
  const next = new Map<number, number>()
  return structs.map((s) => {
    const clock = next.get(s.id.client) ?? s.id.clock
    next.set(s.id.client, clock + s.length)
    if (clock === s.id.clock) return s
    const id = Y.createID(s.id.client, clock)
    if (s instanceof Y.Item) return withItem(s, { id })
    return s instanceof Y.GC ? new Y.GC(id, s.length) : new Y.Skip(id, s.length)
  })
}
