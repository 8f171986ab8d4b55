import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import type { Message } from '@circlechat/model'
import type { Origin } from './origins.js'

/** The authenticated party on a sync connection: a human's session or an agent's bot token. */
export interface Principal {
  memberId: string
  workspaceId: string
  role: 'admin' | 'member'
  kind: 'user' | 'agent'
}

/** One message created, edited, deleted or reacted to: the change feed's unit. */
export interface MessageChange {
  kind: 'created' | 'updated'
  docName: string
  conversationId: string
  message: Message
  origin: Origin
}

export interface SyncServerOptions {
  db: Db
  /** Resolves the session cookie or bot token of an upgrade request; null answers 401. */
  authenticate(req: IncomingMessage): Promise<Principal | null>
  /** Messages per conversation segment before it is sealed (default DEFAULT_SEGMENT_SIZE). */
  segmentSize?: number
}

export interface SyncServer {
  /** Takes over an HTTP upgrade for `/sync/<docName>`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /**
   * A server-authored edit: loads the doc if needed, runs `fn` in one transaction with `origin`,
   * and resolves after the resulting update is durable in SQLite and relayed to peers.
   */
  transact<T>(docName: string, origin: Origin, fn: (doc: Y.Doc) => T): Promise<T>
  /** The live doc (loaded from SQLite if not in memory). Read it; write only through transact. */
  getDoc(docName: string): Promise<Y.Doc>
  /** Sets (null clears) the server's own awareness state on a doc, e.g. which agents are
   *  thinking in a conversation. Relayed like any presence, never stored. */
  setServerPresence(docName: string, state: Record<string, unknown> | null): Promise<void>
  /** Closes a member's connections to docs whose name starts with `prefix` (access revoked). */
  revoke(memberId: string, prefix: string): void
  /** Subscribes to the change feed (after the change is durable). Returns an unsubscribe. */
  onMessageChange(listener: (change: MessageChange) => void): () => void
  close(): Promise<void>
}
