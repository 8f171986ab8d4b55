import type * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import { readMessage, type Message, type VoiceInfo } from '@circlechat/model'
import { FileRefs } from './file-refs.js'

/** What the guard compares an attachment with: the upload's owner, sniffed type, size and voice info. */
export interface AttachedFile {
  owner: string
  contentType: string
  size: number
  voice: VoiceInfo | null
}

/**
 * Materialises messages from conversation and thread docs into the `messages` table (search,
 * REST reads, unread counts). Runs inside the same SQLite transaction as the update it reflects,
 * so the index never lags or leads the documents.
 */
export class MessageIndex {
  #upsert
  #exists
  #rootDoc
  #file
  #refs
  /** Ids accepted but not yet committed: the table cannot see them yet. */
  #pending = new Set<string>()

  constructor(db: Db) {
    const sqlite = db.$client
    this.#upsert = sqlite.prepare(`
      INSERT INTO messages (id, conversation_id, doc, parent_id, author, created_at, edited_at, deleted, body, mentions, attachments, reactions, thread_count, last_reply_at, card)
      VALUES (@id, @conversationId, @doc, @parentId, @author, @createdAt, @editedAt, @deleted, @body, @mentions, @attachments, @reactions, @threadCount, @lastReplyAt, @card)
      ON CONFLICT(id) DO UPDATE SET edited_at = excluded.edited_at, deleted = excluded.deleted, body = excluded.body,
        mentions = excluded.mentions, attachments = excluded.attachments, reactions = excluded.reactions,
        thread_count = excluded.thread_count, last_reply_at = excluded.last_reply_at, card = excluded.card
      WHERE messages.doc = excluded.doc AND messages.conversation_id = excluded.conversation_id`)
    this.#exists = sqlite.prepare('SELECT 1 FROM messages WHERE id = ?').pluck()
    this.#rootDoc = sqlite.prepare('SELECT doc FROM messages WHERE id = ?').pluck()
    this.#file = sqlite.prepare('SELECT owner, content_type AS contentType, size, voice FROM files WHERE key = ?')
    this.#refs = new FileRefs(db)
  }

  /** The upload record an attachment names (guard rule OWN10), if any. */
  fileOf(key: string): AttachedFile | undefined {
    const row = this.#file.get(key) as (Omit<AttachedFile, 'voice'> & { voice: string | null }) | undefined
    return row && { ...row, voice: row.voice ? (JSON.parse(row.voice) as VoiceInfo) : null }
  }

  idTaken(id: string): boolean {
    return this.#pending.has(id) || this.#exists.get(id) === 1
  }

  /** The doc holding a message, e.g. the conversation segment of a thread's root. */
  docOf(id: string): string | undefined {
    return this.#rootDoc.get(id) as string | undefined
  }

  /** Reads the touched maps now (they may change before commit) and returns the writer. */
  prepare(docName: string, conversationId: string, maps: Iterable<Y.Map<unknown>>): { messages: Message[]; write: () => void; done: () => void } {
    const messages = [...maps].map(readMessage)
    for (const m of messages) this.#pending.add(m.id)
    return {
      messages,
      write: () => {
        for (const m of messages) {
          const { changes } = this.#upsert.run({
            id: m.id, conversationId, doc: docName, parentId: m.parentId, author: m.author, createdAt: m.createdAt,
            editedAt: m.editedAt, deleted: m.deleted ? 1 : 0, body: m.body, mentions: JSON.stringify(m.mentions),
            attachments: JSON.stringify(m.attachments), reactions: JSON.stringify(m.reactions),
            threadCount: m.threadCount, lastReplyAt: m.lastReplyAt, card: m.card ? JSON.stringify(m.card) : null
          })
          // An id already indexed for another doc is never overwritten: fail the whole commit.
          if (changes !== 1) throw new Error(`message ${m.id} belongs to another document`)
          // Who may read an attached file follows the message: its conversation's members, until
          // it is deleted or the attachment edited away (agent-gateway services/files.ts).
          this.#refs.record(m.id, conversationId, m.attachments.map((a) => a.key), m.deleted, m.createdAt)
        }
      },
      done: () => {
        for (const m of messages) this.#pending.delete(m.id)
      }
    }
  }
}
