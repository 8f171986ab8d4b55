import type * as Y from 'yjs'
import { readMessage, type Message } from '@circlechat/model'
import { settled, type AttachedFile, type Got, type IndexRows } from './persistence/rows.js'

export type { AttachedFile } from './persistence/rows.js'

/**
 * Materialises messages from conversation and thread docs into the `messages` table (search,
 * REST reads, unread counts). Written inside the same transaction as the update it reflects
 * (the store's `alsoWrite`), so the index never lags or leads the documents.
 */
export class MessageIndex<Tx, A extends boolean> {
  readonly #rows: IndexRows<Tx, A>
  /** Ids accepted but not yet committed: the table cannot see them yet. */
  #pending = new Set<string>()

  constructor(rows: IndexRows<Tx, A>) {
    this.#rows = rows
  }

  /** The upload record an attachment names (guard rule OWN10), if any. */
  fileOf(key: string): Got<AttachedFile | undefined, A> {
    return this.#rows.file(key)
  }

  idTaken(id: string): Got<boolean, A> {
    return this.#pending.has(id) ? settled(this.#rows.async, true) : this.#rows.messageTaken(id)
  }

  /** The doc holding a message, e.g. the conversation segment of a thread's root. */
  docOf(id: string): Got<string | undefined, A> {
    return this.#rows.messageDoc(id)
  }

  /** Reads the touched maps now (they may change before commit) and returns the writer. */
  prepare(docName: string, conversationId: string, maps: Iterable<Y.Map<unknown>>): { messages: Message[]; write: (tx: Tx) => Got<void, A>; done: () => void } {
    const messages = [...maps].map(readMessage)
    for (const m of messages) this.#pending.add(m.id)
    // Who may read an attached file follows the message: its conversation's members, until it
    // is deleted or the attachment edited away (agent-gateway services/files.ts).
    const refs = messages.map((m) => ({ ref: m.id, keys: m.attachments.map((a) => a.key), deleted: m.deleted, createdAt: m.createdAt, taskId: null }))
    return {
      messages,
      write: (tx) => this.#rows.writeMessages(tx, docName, conversationId, messages, refs),
      done: () => {
        for (const m of messages) this.#pending.delete(m.id)
      }
    }
  }
}
