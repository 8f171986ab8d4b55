import type * as Y from 'yjs'
import type { DocName } from '@circlechat/model'
import { rejectReason as R, type RejectReason } from '@circlechat/protocol'
import { UpdateIndex, Unresolvable } from './resolve.js'
import { Rejection, refuse } from './verdict.js'
import { checkMessageUpdate, type MessageRuleContext } from './rules/messages.js'
import { checkMeUpdate } from './rules/me.js'
import { checkBoardUpdate, type BoardCheck } from './rules/board.js'

export interface GuardContext extends Omit<MessageRuleContext, 'threadRoot'> {
  docName: DocName
  maxUpdateBytes: number
  /** The member a Yjs client id is bound to in this doc, if any (OWN8). */
  clientOwner(client: number): string | undefined
  /** Board docs (required for them): a task id exists on any board; a comment id on this one. */
  taskIdTaken?(id: string): boolean
  commentIdTaken?(id: string): boolean
}

export type GuardResult =
  | { ok: true; empty: boolean; newClients: number[]; newMessages: number; touched: Y.Map<unknown>[]; board?: BoardCheck }
  | { ok: false; reason: RejectReason; detail: string }

/**
 * The guard: decides, before anything is applied, whether `update` from `ctx.sender` may change
 * `doc`, on the exact effect Yjs will have (resolve.ts). Rejects the whole update on the first
 * broken rule (SPEC.md); never mutates the doc. O(size of the update).
 */
export function guardUpdate(doc: Y.Doc, update: Uint8Array, ctx: GuardContext): GuardResult {
  if (update.byteLength > ctx.maxUpdateBytes) return { ok: false, reason: R.tooLarge, detail: `updates are limited to ${ctx.maxUpdateBytes} bytes` }
  try {
    let index: UpdateIndex
    try {
      index = new UpdateIndex(doc, update)
    } catch (err) {
      if (err instanceof Rejection || err instanceof Unresolvable) throw err
      return { ok: false, reason: R.malformed, detail: 'not a Yjs update' }
    }
    const newClients = bindClients(index, ctx)
    if (index.items.length === 0 && index.gcs.length === 0 && index.deletedLive.length === 0) return { ok: true, empty: true, newClients: [], newMessages: 0, touched: [] }
    switch (ctx.docName.kind) {
      case 'conv':
      case 'thread': {
        const { newMessages, touched } = checkMessageUpdate(index, { ...ctx, threadRoot: ctx.docName.kind === 'thread' ? ctx.docName.rootMessageId : null })
        return { ok: true, empty: false, newClients, newMessages, touched }
      }
      case 'board': {
        const { taskIdTaken, commentIdTaken } = ctx
        if (!taskIdTaken || !commentIdTaken) return { ok: false, reason: R.readOnly, detail: 'boards cannot be checked here' }
        const board = checkBoardUpdate(index, { ...ctx, taskIdTaken, commentIdTaken })
        return { ok: true, empty: false, newClients, newMessages: board.newTasks + board.newComments, touched: [], board }
      }
      case 'me':
        checkMeUpdate(index, ctx.now)
        return { ok: true, empty: false, newClients, newMessages: 0, touched: [] }
      default:
        return { ok: false, reason: R.readOnly, detail: `${ctx.docName.kind} docs are written by the server` }
    }
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, reason: err.reason, detail: err.detail }
    if (err instanceof Unresolvable) return { ok: false, reason: R.unresolvable, detail: err.message }
    return { ok: false, reason: R.malformed, detail: err instanceof Error ? err.message : 'unreadable update' }
  }
}

/** OWN8: every new struct must be under a client id this member introduced; returns new ids. */
function bindClients(index: UpdateIndex, ctx: GuardContext): number[] {
  const clients = new Set<number>()
  for (const s of index.items) clients.add(s.id.client)
  for (const s of index.gcs) clients.add(s.id.client)
  const fresh: number[] = []
  for (const client of clients) {
    const owner = ctx.clientOwner(client)
    if (owner === ctx.sender) continue
    if (owner !== undefined || index.doc.store.clients.has(client) || client === index.doc.clientID) refuse(R.foreignClient, `client ${client} belongs to someone else`)
    fresh.push(client)
  }
  return fresh
}
