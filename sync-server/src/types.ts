import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import type { Message } from '@circlechat/model'
import type { Origin } from './origins.js'
import type { RelayStorage } from './persistence/storage.js'
import type { ClusterOptions } from './cluster/cluster.js'

/** The authenticated party on a sync connection: a human's session or an agent's bot token. */
export interface Principal {
  memberId: string
  workspaceId: string
  /** As at the upgrade; access checks that depend on it re-read it from SQLite (access.ts). */
  role: 'admin' | 'member' | 'guest'
  kind: 'user' | 'agent' | 'bot'
  /**
   * The credential the principal came with, e.g. `session:<sha256 of the cookie token>` or
   * `bot:<sha256 of the bot token>`: revokeCredential(id) closes its sockets. Absent: a principal
   * no credential revocation applies to (tests, in-process peers).
   */
  credentialId?: string
  /** When that credential expires (ms since epoch); absent: it does not expire by time. */
  expiresAt?: number
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
  /** The SQLite database the relay reads and writes, unless `storage` is given. */
  db?: Db
  /** The relay's store and rows on another dialect (`pgStorage` from `@circlechat/sync-server/pg`). */
  storage?: RelayStorage<unknown, boolean>
  /** Resolves the session cookie or bot token of an upgrade request; null answers 401. */
  authenticate(req: IncomingMessage): Promise<Principal | null>
  /**
   * Until when the principal's credential holds (ms since epoch; Infinity: no expiry), or null if
   * it no longer does (logged out, expired, token rotated, member deactivated). Called before
   * every client write and when a connection reaches its credential's expiry, so it must be cheap
   * (one prepared SQLite statement). Absent: an authenticated principal holds until revoked.
   */
  credentialExpiry?(principal: Principal): number | null
  /** Messages per conversation segment before it is sealed (default DEFAULT_SEGMENT_SIZE). */
  segmentSize?: number
  /** Several processes on one database share documents through Redis: one owner per doc. */
  cluster?: ClusterOptions
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
  /**
   * Closes every connection that came with this credential (logout, token rotation), on every
   * doc, with close code `unauthorized`. Call after the credential is gone from SQLite.
   */
  revokeCredential(credentialId: string): void
  /** Closes every connection of a member (deactivation), with close code `unauthorized`. */
  revokeMember(memberId: string): void
  /**
   * Closes every connection of a member with close code `resync`, so each reconnects and is
   * authorised afresh: their role changed, and a socket's principal carries the old one.
   */
  reauthorizeMember(memberId: string): void
  /**
   * Closes a member's connections to every doc of a conversation: its segments, its board and
   * the threads of its messages (replied to or not), with close code `revoked`. Call after the
   * membership is gone from SQLite.
   */
  revokeConversation(memberId: string, conversationId: string): void
  /** The last storage failure (disk full, read-only), or null once a write has succeeded. */
  storageError(): string | null
  /** Docs in memory now, and their estimated heap (docBudgetBytes bounds it; bench, tests). */
  liveDocs(): { docs: number; heapBytes: number; names: string[] }
  /** Members holding at least one open sync socket now (the mention digest skips them). */
  connectedMembers(): Set<string>
  /** Subscribes to the change feed (after the change is durable). Returns an unsubscribe. */
  onMessageChange(listener: (change: MessageChange) => void): () => void
  /**
   * With a cluster: called when this process takes a doc's lease, with the loaded instance, before
   * it serves any update of it (the doc is this process's until that instance is destroyed).
   * Never called without a cluster. Returns an unsubscribe.
   */
  onDocOwned(listener: (name: string, doc: Y.Doc) => void): () => void
  close(): Promise<void>
}
