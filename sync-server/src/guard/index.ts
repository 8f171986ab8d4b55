import * as Y from 'yjs'
import type { DocName } from '@circlechat/model'
import { rejectReason as R, type RejectReason } from '@circlechat/protocol'
import { UpdateIndex, Unresolvable } from './resolve.js'
import { Rejection } from './verdict.js'
import { checkMessageUpdate, type MessageRuleContext } from './rules/messages.js'
import { checkMeUpdate } from './rules/me.js'

export interface GuardContext extends Omit<MessageRuleContext, 'threadRoot'> {
  docName: DocName
  maxUpdateBytes: number
  /** The member a Yjs client id is bound to in this doc, if any (OWN8). */
  clientOwner(client: number): string | undefined
}

export type GuardResult =
  | { ok: true; empty: boolean; newClients: number[]; newMessages: number }
  | { ok: false; reason: RejectReason; detail: string }

/**
 * The guard: decides, before anything is applied, whether `update` from `ctx.sender` may change
 * `doc`. Rejects the whole update on the first broken rule (SPEC.md); never mutates the doc.
 */
export function guardUpdate(doc: Y.Doc, update: Uint8Array, ctx: GuardContext): GuardResult {
  if (update.byteLength > ctx.maxUpdateBytes) return { ok: false, reason: R.tooLarge, detail: `updates are limited to ${ctx.maxUpdateBytes} bytes` }
  let index: UpdateIndex
  try {
    index = new UpdateIndex(doc, update)
  } catch {
    return { ok: false, reason: R.malformed, detail: 'not a Yjs update' }
  }
  try {
    const newClients = bindClients(index, doc, ctx)
    const deletes = index.deletedLiveItems()
    if (index.items.length === 0 && index.gcs.length === 0 && deletes.length === 0) return { ok: true, empty: true, newClients: [], newMessages: 0 }
    let newMessages = 0
    switch (ctx.docName.kind) {
      case 'conv':
      case 'thread':
        newMessages = checkMessageUpdate(index, { ...ctx, threadRoot: ctx.docName.kind === 'thread' ? ctx.docName.rootMessageId : null })
        break
      case 'me':
        checkMeUpdate(index)
        break
      default:
        return { ok: false, reason: R.readOnly, detail: `${ctx.docName.kind} docs are written by the server` }
    }
    return { ok: true, empty: false, newClients, newMessages }
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, reason: err.reason, detail: err.detail }
    if (err instanceof Unresolvable) return { ok: false, reason: R.unresolvable, detail: err.message }
    return { ok: false, reason: R.malformed, detail: err instanceof Error ? err.message : 'unreadable update' }
  }
}

/** OWN8: every struct must be under a client id this member introduced; returns new ids. */
function bindClients(index: UpdateIndex, doc: Y.Doc, ctx: GuardContext): number[] {
  const clients = new Set<number>()
  for (const s of index.items) clients.add(s.id.client)
  for (const s of index.gcs) clients.add(s.id.client)
  const fresh: number[] = []
  for (const client of clients) {
    // A gap before a client's first new struct would leave the update pending (never applied,
    // never stored): the sender is missing history it should have synced first.
    const first = Math.min(...[...index.items, ...index.gcs].filter((s) => s.id.client === client).map((s) => s.id.clock))
    if (first > Y.getState(doc.store, client)) throw new Unresolvable(`client ${client} skips clocks; re-sync first`)
    const owner = ctx.clientOwner(client)
    if (owner === ctx.sender) continue
    if (owner !== undefined || Y.getState(doc.store, client) > 0) throw new Rejection(R.foreignClient, `client ${client} belongs to someone else`)
    fresh.push(client)
  }
  return fresh
}
