import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import * as Y from 'yjs'
import { WebSocketServer, type WebSocket } from 'ws'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import type { Db } from '@circlechat/db'
import {
  parseDocName, docName, readSegmentMeta, initSegment, sealSegment, messagesOf, noteThreadReply,
  meConversationsOf, putConversation, snapshotMessage, DEFAULT_SEGMENT_SIZE, isId, initBoard, archivableTasks, listTasks,
  removeTasks, type MessageWriteContext
} from '@circlechat/model'
import { messageType, rejectReason as R, closeCode, type RejectReason } from '@circlechat/protocol'
import type { MessageChange, Principal, SyncServer, SyncServerOptions } from './types.js'
import { isOrigin, type Origin } from './origins.js'
import { syncDefaults, type SyncConfig } from './config.js'
import { sqliteStorage, type RelayStorage } from './persistence/storage.js'
import { inSequence, mapGot, type ConversationAccess, type Got } from './persistence/rows.js'
import { AccessControl, type Access } from './access.js'
import { MessageIndex } from './message-index.js'
import { TaskIndex, type BoardScope } from './task-index.js'
import { boardActivity, recordActivity } from './board-activity.js'
import { Room } from './room.js'
import { Connection } from './connection.js'
import { guardUpdate, type GuardContext, type GuardResult } from './guard/index.js'
import { guardWithLookups, type AsyncGuardReads } from './guard/lookups.js'
import { afterApplyViolations, afterApplyBoardViolations, boardBefore } from './guard/after-apply.js'
import { StorageFailure } from './storage-failure.js'
import { TokenBucket } from './rate-limit.js'
import { closeGracefully } from './socket-health.js'
import { PresenceFanout, changesNothing } from './presence.js'
import { Cluster, type Revocation, type RoomRole } from './cluster/cluster.js'
import { FencedOut } from './cluster/fence.js'
import { PresenceClaims } from './cluster/presence-claims.js'
import type { ForwardedUpdate, Reply } from './cluster/forward.js'
import type { FeedEntry } from './cluster/doc-feed.js'
import type { Lease } from './cluster/lease.js'

const LOAD = Symbol('load')
/** Committed elsewhere (the owner's feed, or the database after a gap): relayed, never stored. */
const REMOTE = Symbol('remote')
/** Forwarded client updates carry no local connection: no socket here is acked for them. */
const FORWARDED_CONNECTION = -1
/** The origin of an owner's last feed entry when it lets the doc go (an empty update). */
const RELEASED = 'released'
/** Awareness client ids one connection may speak for: a tab reconnecting keeps a few. */
const MAX_AWARENESS_CLIENTS = 4
/** Awareness ids of a doc other processes may speak for, per room (cluster/presence-claims.ts). */
const MAX_REMOTE_AWARENESS_CLIENTS = 4096
/** Catch-up pools kept (~200 B each): member-docs connected within `catchUpEveryMs`. */
const MAX_CATCH_UP_POOLS = 10_000
/** Longest single wait of a credential-expiry timer (setTimeout overflows past ~24.8 days). */
const MAX_EXPIRY_WAIT_MS = 24 * 60 * 60 * 1000

/**
 * The relay: y-websocket protocol over `ws`, with every client update passed through the guard
 * before it is applied, appended durably to SQLite before it is relayed or acknowledged, and
 * indexed in the same transaction. Server-authored edits (REST, agents) take the same path.
 */
export class Relay implements SyncServer {
  readonly config: SyncConfig
  /** SQLite's (sync reads, `Got` values) or PostgreSQL's (promises); see persistence/rows.ts. */
  readonly #storage: RelayStorage<unknown, boolean>
  readonly #store: RelayStorage<unknown, boolean>['store']
  readonly #access: AccessControl<boolean>
  readonly #index: MessageIndex<unknown, boolean>
  readonly #tasks: TaskIndex<unknown, boolean>
  readonly #rows: RelayStorage<unknown, boolean>['rows']
  /** Where reads are promises: the room's last update still reading, which the next waits for. */
  readonly #reading = new WeakMap<Room, Promise<void>>()
  /** Board rooms: where their tasks are indexed. */
  readonly #boardScopes = new WeakMap<Room, BoardScope>()
  readonly #authenticate: SyncServerOptions['authenticate']
  readonly #credentialExpiry: SyncServerOptions['credentialExpiry']
  readonly #segmentSize: number
  readonly #wss: WebSocketServer
  readonly #rooms = new Map<string, Room>()
  readonly #loading = new Map<string, Promise<Room>>()
  readonly #listeners = new Set<(change: MessageChange) => void>()
  readonly #ownedListeners = new Set<(name: string, doc: Y.Doc) => void>()
  /** Each room's presence batching (presence.ts). */
  readonly #presence = new WeakMap<Room, PresenceFanout>()
  /** Set by close(): no new upgrades, and client messages are no longer applied. */
  #closing = false
  /** Work a commit started and nobody awaits (seals, thread counts, activity): close() lets it finish. */
  readonly #afterCommit = new Set<Promise<unknown>>()
  /** `<doc>|<member>` → that member's catch-up pools on that doc (config.catchUp*). */
  readonly #catchUps = new Map<string, { updates: TokenBucket; messages: TokenBucket; used: number }>()
  /** The last storage failure, until a write succeeds again (health reports it). */
  #storageError: string | null = null
  /** Unloads idle sealed segments and keeps live docs within the budget as they grow. */
  readonly #sweep: NodeJS.Timeout
  /** CLUSTER=redis: the other processes; null when this process is alone. */
  readonly #cluster: Cluster | null
  /** Origins of updates forwarded to this process as owner → the request to answer. */
  readonly #forwarded = new WeakMap<object, { request: ForwardedUpdate; messages: number }>()
  /** A room leaving the cluster (lease released, streams left): its next load waits for it. */
  readonly #detaching = new Map<string, Promise<void>>()
  /** Looks, once a lease lifetime, for followed docs whose owner is gone. */
  readonly #orphans: NodeJS.Timeout | null

  constructor(options: SyncServerOptions, config: Partial<SyncConfig> = {}) {
    this.config = { ...syncDefaults, ...config }
    const storage = options.storage ?? (options.db && sqliteStorage(options.db))
    if (!storage) throw new Error('the relay needs a database: db or storage')
    this.#storage = storage
    this.#store = storage.store
    const rows = storage.rows
    this.#rows = rows
    this.#access = new AccessControl(rows)
    this.#index = new MessageIndex(rows)
    this.#tasks = new TaskIndex(rows)
    this.#authenticate = options.authenticate
    this.#credentialExpiry = options.credentialExpiry
    this.#segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.config.maxFrameBytes })
    this.#sweep = setInterval(() => this.#sweepIdle(), Math.max(50, Math.min(this.config.sealedIdleMs / 2, 10_000)))
    this.#sweep.unref()
    this.#cluster = options.cluster ? new Cluster(options.cluster, (lease) => this.#onLeaseLost(lease), (r) => this.#revokeHere(r)) : null
    this.#orphans = this.#cluster ? setInterval(() => void this.#followOrphans(), this.#cluster.leaseTtlMs) : null
    this.#orphans?.unref()
  }

  // ---- upgrade and connection -------------------------------------------------------------

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (this.#closing) {
      refuseUpgrade(socket, 503, 'Service Unavailable')
      return
    }
    this.#accept(req, socket, head).catch((err) => {
      console.error('sync upgrade failed', err)
      refuseUpgrade(socket, 500, 'Internal Server Error')
    })
  }

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const name = decodeURIComponent(path.replace(/^\/sync\//, ''))
    const parsed = parseDocName(name)
    if (!parsed) return refuseUpgrade(socket, 400, 'Bad Request')
    const principal = await this.#authenticate(req)
    if (!principal) return refuseUpgrade(socket, 401, 'Unauthorized')
    const access = await this.#access.check(principal, parsed)
    if (!access) return refuseUpgrade(socket, 403, 'Forbidden')
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, principal, name))
  }

  #connect(ws: WebSocket, principal: Principal, name: string) {
    // Messages may arrive while the doc loads; handle them strictly in order.
    let chain: Promise<Connection | null> = this.#room(name).then(async (room) => {
      if (!(await this.#admit(ws, principal, room))) return null
      const conn = new Connection(ws, principal, room, this.config, this.#catchUpPools(room.name, principal.memberId))
      room.conns.add(conn)
      room.lastUsed = Date.now()
      this.#greet(conn)
      if (room.parsed.kind === 'me') void this.#reconcileSegments(room).catch((err) => console.error('segment reconcile failed', room.name, err))
      return conn
    }).catch((err) => {
      console.error('sync load failed', name, err)
      ws.close(1011, 'could not load document')
      return null
    })
    ws.on('message', (data: Buffer) => {
      chain = chain.then(async (conn) => {
        // A socket being closed (revoked) is heard no more: no update, no presence, no read.
        if (conn && ws.readyState === ws.OPEN) await this.#onMessage(conn, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        return conn
      })
    })
    ws.on('close', () => {
      void chain.then((conn) => conn && this.#disconnect(conn))
    })
    ws.on('error', () => ws.terminate())
  }

  /**
   * Re-checks the credential and access once the doc has loaded: a logout, deactivation or leave
   * that happened since the upgrade was authorised found no connection to close. Then arms the
   * close at the credential's expiry.
   */
  #admit(ws: WebSocket, principal: Principal, room: Room): Got<boolean, boolean> {
    if (ws.readyState !== ws.OPEN) return false // gone while the doc loaded: nothing to attach
    const until = this.#validUntil(principal)
    if (until === null || until <= Date.now()) {
      ws.close(closeCode.unauthorized, 'session ended')
      return false
    }
    return mapGot(this.#access.check(principal, room.parsed), (access) => {
      if (ws.readyState !== ws.OPEN) return false
      if (!access) {
        ws.close(closeCode.revoked, 'access revoked')
        return false
      }
      this.#closeAtExpiry(ws, principal, until)
      return true
    })
  }

  /** The member's catch-up pools on a doc; pools untouched for a full refill are forgotten. */
  #catchUpPools(name: string, memberId: string) {
    const now = Date.now()
    const c = this.config
    if (this.#catchUps.size >= MAX_CATCH_UP_POOLS) {
      for (const [k, p] of this.#catchUps) if (now - p.used >= c.catchUpEveryMs) this.#catchUps.delete(k)
      // Still full: the oldest pools go (a member losing one starts a fresh pool on their next
      // connection; their open connections keep theirs).
      for (const k of this.#catchUps.keys()) {
        if (this.#catchUps.size < MAX_CATCH_UP_POOLS) break
        this.#catchUps.delete(k)
      }
    }
    const key = `${name}|${memberId}`
    let pools = this.#catchUps.get(key)
    if (!pools) {
      const per = c.catchUpEveryMs / 1000
      pools = { updates: new TokenBucket(c.catchUpUpdates / per, c.catchUpUpdates), messages: new TokenBucket(c.catchUpMessages / per, c.catchUpMessages), used: now }
      this.#catchUps.set(key, pools)
    }
    pools.used = now
    return pools
  }

  #validUntil(principal: Principal): number | null {
    return this.#credentialExpiry ? this.#credentialExpiry(principal) : (principal.expiresAt ?? Infinity)
  }

  /** One timer per connection, at its credential's expiry; re-armed if the session was renewed. */
  #closeAtExpiry(ws: WebSocket, principal: Principal, until: number) {
    if (until === Infinity) return
    let timer: NodeJS.Timeout | undefined
    const arm = (at: number) => {
      timer = setTimeout(() => {
        const next = this.#validUntil(principal)
        if (next === null || next <= Date.now()) ws.close(closeCode.unauthorized, 'session expired')
        else arm(next)
      }, Math.min(Math.max(0, at - Date.now()), MAX_EXPIRY_WAIT_MS))
      timer.unref()
    }
    arm(until)
    ws.once('close', () => clearTimeout(timer))
  }

  #greet(conn: Connection) {
    const { doc, awareness } = conn.room
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, messageType.sync)
    syncProtocol.writeSyncStep1(e, doc)
    conn.send(encoding.toUint8Array(e))
    const states = [...awareness.getStates().keys()]
    if (states.length > 0) {
      const a = encoding.createEncoder()
      encoding.writeVarUint(a, messageType.awareness)
      encoding.writeVarUint8Array(a, awarenessProtocol.encodeAwarenessUpdate(awareness, states))
      conn.send(encoding.toUint8Array(a))
    }
  }

  #disconnect(conn: Connection) {
    const room = conn.room
    room.conns.delete(conn)
    if (conn.awarenessClients.size > 0) awarenessProtocol.removeAwarenessStates(room.awareness, [...conn.awarenessClients], 'close')
    room.lastUsed = Date.now()
    this.#evictIdle()
  }

  #onMessage(conn: Connection, bytes: Uint8Array): Got<void, boolean> {
    // Shutting down: an update taken now could not be acknowledged; the client resends it to
    // the next process when it resyncs.
    if (this.#closing) return
    try {
      const decoder = decoding.createDecoder(bytes)
      const type = decoding.readVarUint(decoder)
      if (type === messageType.sync) {
        const syncType = decoding.readVarUint(decoder)
        if (syncType === syncProtocol.messageYjsSyncStep1) {
          const e = encoding.createEncoder()
          encoding.writeVarUint(e, messageType.sync)
          syncProtocol.writeSyncStep2(e, conn.room.doc, decoding.readVarUint8Array(decoder))
          conn.send(encoding.toUint8Array(e))
        } else if (syncType === syncProtocol.messageYjsSyncStep2 || syncType === syncProtocol.messageYjsUpdate) {
          return this.#onClientUpdate(conn, decoding.readVarUint8Array(decoder))
        } else {
          conn.sendReject(R.malformed, 'unknown sync message')
        }
      } else if (type === messageType.awareness) {
        this.#onAwareness(conn, decoding.readVarUint8Array(decoder))
      } else {
        conn.sendReject(R.malformed, `unknown message type ${type}`)
      }
    } catch (err) {
      conn.sendReject(R.malformed, 'unreadable message')
    }
  }

  #onClientUpdate(conn: Connection, update: Uint8Array): Got<void, boolean> {
    const { room, principal } = conn
    if (room.discarded) return
    const until = this.#validUntil(principal)
    if (until === null || until <= Date.now()) {
      conn.ws.close(closeCode.unauthorized, 'session ended')
      return
    }
    return this.#inTurn(room, this.#guardReads(room, principal), (reads) => {
      if (room.discarded || conn.ws.readyState !== conn.ws.OPEN) return
      if (!reads) {
        conn.sendReject(R.notMember, 'you are no longer a member')
        conn.ws.close(closeCode.revoked, 'access revoked')
        return
      }
      if (!conn.updates.take()) return refuseInOrder(conn, R.rateLimited, 'too many updates; slow down')
      if (room.role?.kind === 'follower') return this.#forward(conn, update)
      return this.#guardAndApply(room, principal, reads, update, {
        origin: { source: 'connection', memberId: principal.memberId, connectionId: conn.id },
        ack: () => afterCommits(conn, () => conn.sendAck()),
        refuse: (reason, detail) => refuseInOrder(conn, reason, detail),
        takeMessages: (count) => conn.messages.take(count)
      })
    }, (err) => {
      console.error('sync: could not read access for an update', room.name, err)
      refuseInOrder(conn, R.storageFailure, STORAGE_FAILURE_DETAIL)
    })
  }

  /**
   * What deciding a member's update reads, fresh: access now (revocation is immediate), when
   * they joined the conversation, and whether the segment takes new messages. null: no access.
   */
  #guardReads(room: Room, principal: Principal): Got<GuardReads | null, boolean> {
    return mapGot(this.#access.check(principal, room.parsed), (access) => {
      if (!access) return null
      if (!room.conversationId) return { access, joinedAt: 0, acceptsNewMessages: true }
      return mapGot(this.#access.conversation(room.conversationId, principal.memberId), (conv) => ({
        access, joinedAt: conv?.joinedAt ?? Number.MAX_SAFE_INTEGER, acceptsNewMessages: acceptsNewMessages(room, conv)
      }))
    })
  }

  /**
   * Acts on `read` now if it is a value and nothing of this room is still reading (SQLite);
   * otherwise after the room's earlier reads and acts, so its updates are decided in the order
   * they came. `failed`: the read (or the act) threw.
   */
  #inTurn<T>(room: Room, read: Got<T, boolean>, act: (value: T) => Got<void, boolean>, failed: (err: unknown) => void): Got<void, boolean> {
    const before = this.#reading.get(room)
    if (!before && !(read instanceof Promise)) return act(read as T)
    const turn = (before ?? Promise.resolve()).then(() => read).then(act).catch(failed)
    this.#reading.set(room, turn)
    return turn.finally(() => {
      if (this.#reading.get(room) === turn) this.#reading.delete(room)
    })
  }

  /**
   * The guard's decision on a member's update and, if accepted, its application to the doc
   * (#onDocUpdate then commits it). The writer is a local connection or, on an owner, a request
   * forwarded by another process; either way it is answered in order.
   */
  #guardAndApply(room: Room, principal: Principal, { access, joinedAt, acceptsNewMessages }: GuardReads, update: Uint8Array, writer: Writer): Got<void, boolean> {
    const rules: MessageWriteContext = {
      sender: principal.memberId,
      isAdmin: principal.role === 'admin',
      now: Date.now(),
      joinedAt,
      threadRoot: room.parsed.kind === 'thread' ? room.parsed.rootMessageId : null
    }
    const guard = (lookups: GuardLookupsOf) => guardUpdate(room.doc, update, {
      ...rules,
      docName: room.parsed,
      maxUpdateBytes: this.config.maxUpdateBytes,
      acceptsNewMessages,
      ...lookups,
      clientOwner: (client) => room.clientOwners.get(client),
      commentIdTaken: (id) => room.board?.commentIds.has(id) ?? false
    })
    const apply = (result: GuardResult) => this.#applyAccepted(room, principal, access, update, writer, rules, result)
    // SQLite answers the lookups now: the guard runs once, as ever. PostgreSQL's are queries.
    if (!this.#rows.async) return apply(guard(this.#lookups as GuardLookupsOf))
    const reads: AsyncGuardReads = {
      idTaken: async (id) => await this.#index.idTaken(id),
      fileOf: async (key) => await this.#index.fileOf(key),
      taskIdTaken: async (id) => await this.#tasks.idTaken(id)
    }
    return guardWithLookups(reads, guard, apply)
  }

  /** The index's lookups, as the guard asks them (values on SQLite). */
  readonly #lookups = {
    idTaken: (id: string) => this.#index.idTaken(id),
    fileOf: (key: string) => this.#index.fileOf(key),
    taskIdTaken: (id: string) => this.#tasks.idTaken(id)
  }

  /** The guard's verdict: refused, or applied to the doc (#onDocUpdate then commits it). */
  #applyAccepted(room: Room, principal: Principal, access: Access, update: Uint8Array, writer: Writer, rules: MessageWriteContext, result: GuardResult) {
    if (!result.ok) {
      console.warn(`guard: rejected update from ${principal.memberId} on ${room.name}: ${result.reason} (${result.detail})`)
      return writer.refuse(result.reason, result.detail)
    }
    // e.g. y-websocket's step 2 answer on a read-only doc: nothing to refuse. Acknowledged, after
    // the commits before it, so a client counting acks (its outbox) never waits for it.
    if (result.empty) return writer.ack()
    if (!access.canWrite) return writer.refuse(R.readOnly, access.readOnlyReason ?? `${room.parsed.kind} docs are written by the server`)
    if (result.newMessages > 0 && !writer.takeMessages(result.newMessages)) return writer.refuse(R.rateLimited, 'too many messages; slow down')
    const origin = writer.origin
    // What #onDocUpdate needs to bind client ids and re-check the result; tied to this origin so
    // it can never be taken for another update.
    const board = result.board && boardBefore(result.board, room.doc)
    room.applying = { origin, newClients: result.newClients, rules, before: new Map(result.touched.map((m) => [m, snapshotMessage(m)])), board }
    try {
      Y.applyUpdate(room.doc, update, origin)
    } catch (err) {
      return this.#discard(room, `applying an accepted update threw: ${err instanceof Error ? err.message : err}`, update)
    } finally {
      room.applying = null
    }
    // The guard only accepts updates that resolve completely; anything pending is a guard bug.
    if (room.doc.store.pendingStructs !== null || room.doc.store.pendingDs !== null) this.#discard(room, 'an accepted update left pending state', update)
  }

  /**
   * Follower: the owner guards and commits. Its answer reaches the client after the answers to
   * the client's earlier updates and before this process's own refusals of later ones.
   */
  #forward(conn: Connection, update: Uint8Array) {
    const { room, principal } = conn
    const sent: ForwardedFrom = {
      member: { memberId: principal.memberId, workspaceId: principal.workspaceId, role: principal.role, kind: principal.kind },
      messages: Math.floor(conn.messages.available())
    }
    const reply = this.#cluster!.forwarder.forward(room.name, JSON.stringify(sent), update).catch((): Reply => ({ kind: 'resync' }))
    const before = room.lastCommit
    room.lastCommit = Promise.all([reply, before]).then(([r]) => {
      if (r.kind === 'ack') {
        // The owner counted the new messages against what was left: spend them here.
        if (r.messages) conn.messages.take(r.messages)
        conn.sendAck()
      } else if (r.kind === 'reject') {
        conn.sendReject(r.reason as RejectReason, r.detail)
        if (r.reason === R.notMember) conn.ws.close(closeCode.revoked, 'access revoked')
      } else {
        // No answer, or the owner lost the doc: the client re-syncs and resends what is unacked.
        this.#discard(room, 'its owner did not answer a forwarded update')
      }
    })
  }

  /** Owner: an update another process forwarded, decided as if its client were connected here. */
  #onForwarded(room: Room, request: ForwardedUpdate) {
    const role = room.role
    // Unanswered: the sender times out and sends its client to re-sync.
    if (room.discarded || role?.kind !== 'owner' || this.#closing) return
    const answer = (reply: Reply) => {
      role.published = role.published.then(() => this.#reply(request, reply))
    }
    const from = parseForwarded(request.principal)
    if (!from) return answer({ kind: 'reject', reason: R.malformed, detail: 'unreadable forwarded update' })
    if ('server' in from) {
      const before = room.lastAppend
      this.#forwarded.set(from.server, { request, messages: 0 })
      try {
        Y.applyUpdate(room.doc, request.update, from.server)
      } catch (err) {
        return this.#discard(room, `applying a forwarded server edit threw: ${err instanceof Error ? err.message : err}`, request.update)
      }
      if (room.lastAppend === before) answer({ kind: 'ack' }) // nothing new: already applied
      return
    }
    // Membership at the moment of use, as for a local connection's every update.
    void this.#inTurn(room, this.#guardReads(room, from.member), (reads) => {
      if (!reads) return answer({ kind: 'reject', reason: R.notMember, detail: 'you are no longer a member' })
      const origin = { source: 'connection', memberId: from.member.memberId, connectionId: FORWARDED_CONNECTION } as const
      const entry = { request, messages: 0 }
      this.#forwarded.set(origin, entry)
      return this.#guardAndApply(room, from.member, reads, request.update, {
        origin,
        ack: () => answer({ kind: 'ack' }),
        refuse: (reason, detail) => answer({ kind: 'reject', reason, detail }),
        takeMessages: (count) => {
          entry.messages = count
          return count <= from.messages
        }
      })
    }, (err) => {
      console.error('cluster: could not read access for a forwarded update', room.name, err)
      answer({ kind: 'reject', reason: R.storageFailure, detail: STORAGE_FAILURE_DETAIL })
    })
  }

  #reply(request: ForwardedUpdate, reply: Reply): Promise<void> {
    return this.#cluster!.forwarder.reply(request, reply).catch((err: Error) => console.warn('cluster: reply failed', err.message))
  }

  /**
   * Owner: after the commit the update goes on the doc's feed, then a forwarded one is answered.
   * Chained in append order, so publishes are numbered and answers sent in commit order.
   */
  #publish(room: Room, role: Extract<RoomRole, { kind: 'owner' }>, update: Uint8Array, origin: unknown, commit: Promise<void>) {
    const cluster = this.#cluster!
    const forwarded = typeof origin === 'object' && origin !== null ? this.#forwarded.get(origin) : undefined
    const tag = forwarded ? `${forwarded.request.from}/${forwarded.request.req}` : ''
    role.published = role.published.then(() => commit).then(async () => {
      await cluster.feed.publish(room.name, { fence: role.lease.fence, n: ++role.n }, update, tag)
        .catch((err: Error) => console.warn('cluster: publish failed', room.name, err.message)) // followers see the hole
      if (forwarded) await this.#reply(forwarded.request, { kind: 'ack', messages: forwarded.messages })
    }, async (err: unknown) => {
      if (!forwarded) return
      // Fenced out: a newer owner decides it, after the client re-syncs; not the client's fault.
      await this.#reply(forwarded.request, err instanceof FencedOut || room.discarded ? { kind: 'resync' } : { kind: 'reject', reason: R.storageFailure, detail: STORAGE_FAILURE_DETAIL })
    })
  }

  /** Follower: an update the owner committed. */
  #onFeedEntry(room: Room, entry: FeedEntry) {
    if (room.discarded) return
    // Nobody owns the doc now: its clients re-sync, and the next open takes the lease at once
    // rather than when a write here finds no answer.
    if (entry.origin === RELEASED) return this.#discard(room, 'its owner let it go')
    try {
      Y.applyUpdate(room.doc, entry.update, REMOTE)
    } catch (err) {
      this.#discard(room, `a published update did not apply: ${err instanceof Error ? err.message : err}`)
    }
  }

  /** Follower: entries may have been missed (trimmed, a new owner): what the database has. */
  async #catchUpFromStore(room: Room) {
    const updates = await this.#store.loadDoc(room.name)
    if (room.discarded) return
    room.doc.transact(() => {
      for (const u of updates) Y.applyUpdate(room.doc, u)
    }, REMOTE)
  }

  /** Follower: committed elsewhere, so relayed to this process's clients and nothing else. */
  #relayRemote(room: Room, update: Uint8Array) {
    room.takeChanges()
    room.board?.take()
    room.encodedBytes += update.byteLength
    const bytes = syncUpdateFrame(update)
    for (const c of room.conns) c.send(bytes)
  }

  /**
   * The in-memory doc may no longer match what is stored (an update that could not be stored,
   * or a guard bug): drop it, so the next open reloads it from SQLite, and send its clients back
   * to re-sync. Nothing unstored was relayed: relaying follows the commit.
   */
  #discard(room: Room, why: string, update?: Uint8Array) {
    if (room.discarded) return
    console.error(`relay: reloading ${room.name} from storage: ${why}${update ? ` (update base64 ${Buffer.from(update).toString('base64')})` : ''}`)
    room.discarded = true
    if (this.#rooms.get(room.name) === room) this.#rooms.delete(room.name)
    for (const c of room.conns) c.ws.close(closeCode.resync, 'reconnect to re-sync')
    this.#leaveCluster(room)
    void room.lastCommit.finally(() => room.doc.destroy())
  }

  #onAwareness(conn: Connection, update: Uint8Array) {
    // Echoes of what we relayed (y-websocket sends back every update it applies, a flush can be
    // larger than a client's own limit): nothing to do, and nothing to refuse.
    if (this.#presence.get(conn.room)?.changesNothing(update) ?? changesNothing(conn.room.awareness, update)) return
    if (update.byteLength > this.config.maxAwarenessBytes) return conn.sendReject(R.tooLarge, `presence updates are limited to ${this.config.maxAwarenessBytes} bytes`)
    if (!conn.awareness.take()) return conn.sendReject(R.rateLimited, 'too many presence updates; slow down')
    // Each entry is (clientID, clock, state); a connection may speak only for its own ids, never
    // for the server's (its "thinking" rows), and introduces at most a few.
    const d = decoding.createDecoder(update)
    const count = decoding.readVarUint(d)
    const owned = localAwarenessIds(conn.room)
    for (const id of conn.awarenessClients) owned.delete(id)
    const ids = new Set<number>()
    for (let i = 0; i < count; i++) {
      const id = decoding.readVarUint(d)
      decoding.readVarUint(d)
      if (!ownsPresence(decoding.readVarString(d), conn.principal.memberId)) return
      if (owned.has(id) || conn.room.presenceClaims?.has(id)) return // another process's client's
      ids.add(id)
    }
    const introduced = [...ids].filter((id) => !conn.awarenessClients.has(id)).length
    if (conn.awarenessClients.size + introduced > MAX_AWARENESS_CLIENTS) return
    for (const id of ids) conn.awarenessClients.add(id)
    awarenessProtocol.applyAwarenessUpdate(conn.room.awareness, update, conn)
  }

  // ---- rooms, persistence, change feed ----------------------------------------------------

  #room(name: string): Promise<Room> {
    const live = this.#rooms.get(name)
    if (live) {
      live.lastUsed = Date.now()
      return Promise.resolve(live)
    }
    let loading = this.#loading.get(name)
    if (!loading) {
      loading = this.#load(name).finally(() => this.#loading.delete(name))
      this.#loading.set(name, loading)
    }
    return loading
  }

  async #load(name: string): Promise<Room> {
    const parsed = parseDocName(name)
    if (!parsed) throw new Error(`not a document name: ${name}`)
    const conversationId =
      parsed.kind === 'conv' ? parsed.conversationId
      : parsed.kind === 'board' ? (isId('workspace', parsed.conversationId) ? null : parsed.conversationId)
      : parsed.kind === 'thread' ? ((await this.#rows.threadConversation(parsed.rootMessageId)) ?? null)
      : null
    await this.#detaching.get(name) // its previous instance's lease released, its streams left
    const room = new Room(name, parsed, conversationId)
    const cluster = this.#cluster
    const from = cluster ? await this.#decideRole(room, cluster) : null
    let updates: Uint8Array[]
    try {
      updates = await this.#store.loadDoc(name)
    } catch (err) {
      if (room.role?.kind === 'owner') await cluster!.leases.release(name)
      throw err
    }
    room.doc.transact(() => {
      for (const u of updates) Y.applyUpdate(room.doc, u)
    }, LOAD)
    room.takeChanges()
    room.updatesSinceCompact = updates.length
    for (const u of updates) room.encodedBytes += u.byteLength
    for (const b of await this.#rows.clients(name)) room.clientOwners.set(b.client, b.memberId)
    // Read before the room is shared: from then on nothing may await before the board's scope is set.
    const boardWorkspace = parsed.kind !== 'board' ? undefined : conversationId ? await this.#rows.workspaceOf(conversationId) : parsed.conversationId
    room.doc.on('update', (update: Uint8Array, origin: unknown) => this.#onDocUpdate(room, update, origin))
    // Presence goes out in batches (transitions within a second, renewals within a few), never
    // one frame per renewal per socket: see presence.ts.
    this.#presence.set(room, new PresenceFanout(room.awareness, (bytes) => {
      for (const c of room.conns) c.send(bytes)
    }, { flushMs: this.config.presenceFlushMs, renewMs: this.config.presenceRenewMs }))
    this.#evictIdle() // before this room joins the others: never evicted before its caller has it
    this.#rooms.set(name, room)
    if (cluster) this.#joinCluster(room, cluster, from!)
    if (room.role?.kind === 'owner') {
      for (const listener of this.#ownedListeners) {
        try { listener(name, room.doc) } catch (err) { console.error('owned listener failed', err) }
      }
    }
    // A follower's doc changes only by what its owner committed: the owner initialises and seals.
    const owns = room.role?.kind !== 'follower'
    if (owns && parsed.kind === 'conv' && !readSegmentMeta(room.doc)) initSegment(room.doc, parsed.conversationId, parsed.segment, serverOrigin('init segment'))
    if (parsed.kind === 'board') {
      room.board!.take()
      // A board whose conversation is unknown gets no meta and no index rows until it exists.
      const workspaceId = boardWorkspace
      if (owns && workspaceId) {
        this.#boardScopes.set(room, { board: parsed.conversationId, workspaceId, conversationId })
        initBoard(room.doc, { conversationId, workspaceId }, serverOrigin('init board'))
        void this.#archiveDone(room).catch((err) => console.error('task archive failed', name, err))
      }
    }
    if (owns && parsed.kind === 'conv') void this.#reconcileSegments(room).catch((err) => console.error('segment reconcile failed', name, err))
    return room
  }

  /**
   * Owner if no process holds the doc: the fence is claimed before the load, so every write a
   * predecessor can still commit is in what loads (fence.ts). Otherwise a follower of the owner's
   * feed. Resolves with the stream id to read from, noted before the load.
   */
  async #decideRole(room: Room, cluster: Cluster): Promise<string> {
    await cluster.ready
    const lease = await cluster.leases.acquire(room.name)
    if (!lease) {
      room.role = { kind: 'follower' }
      return cluster.feed.tail(room.name)
    }
    room.role = { kind: 'owner', lease, n: 0, published: Promise.resolve() }
    try {
      const from = await cluster.forwarder.tail(room.name)
      await this.#storage.claimFence(room.name, lease.fence)
      return from
    } catch (err) {
      await cluster.leases.release(room.name)
      throw err
    }
  }

  /** Starts serving forwarded updates (owner) or following the feed, and carrying presence. */
  #joinCluster(room: Room, cluster: Cluster, from: string) {
    const role = room.role!
    const reading = role.kind === 'owner'
      ? cluster.forwarder.serve(room.name, from, (request) => this.#onForwarded(room, request))
      : cluster.feed.follow(room.name, from, {
          onEntry: (entry) => this.#onFeedEntry(room, entry),
          onGap: () => void this.#catchUpFromStore(room).catch((err) => console.error('catch-up failed', room.name, err))
        })
    if (!reading) console.warn(`cluster: too many streams read; ${room.name} is not ${role.kind === 'owner' ? 'served' : 'followed'}`)
    const claims = room.presenceClaims = new PresenceClaims(MAX_REMOTE_AWARENESS_CLIENTS)
    room.awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      for (const id of removed) claims.forget(id) // timed out here: free for whoever speaks next
      if (origin !== REMOTE && !this.#closing) cluster.awareness.publish(room.name, awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...added, ...updated, ...removed]))
    })
    void cluster.awareness.join(room.name, (update, from) => {
      // An empty frame is a process that just joined asking who is here: our own connections answer.
      if (update.byteLength === 0) return this.#publishLocalPresence(room, cluster)
      const mine = localAwarenessIds(room)
      const admitted = claims.admit(update, from, (id) => mine.has(id))
      if (admitted) awarenessProtocol.applyAwarenessUpdate(room.awareness, admitted, REMOTE)
    }).then((joined) => {
      // Learn the ids other processes hold now rather than at their next renewal (~15 s).
      if (joined) cluster.awareness.publish(room.name, new Uint8Array())
    }).catch((err: Error) => console.warn('cluster: presence not joined', room.name, err.message))
  }

  #publishLocalPresence(room: Room, cluster: Cluster) {
    const states = room.awareness.getStates()
    const ids = [...localAwarenessIds(room)].filter((id) => states.has(id))
    if (ids.length > 0) cluster.awareness.publish(room.name, awarenessProtocol.encodeAwarenessUpdate(room.awareness, ids))
  }

  /** Stops reading the room's streams; an owner releases its lease once its commits are answered. */
  #leaveCluster(room: Room) {
    const cluster = this.#cluster
    const role = room.role
    if (!cluster || !role || this.#closing) return // closing: #leaveClusterAll
    if (role.kind === 'owner') cluster.forwarder.unserve(room.name)
    else cluster.feed.unfollow(room.name)
    const left: Promise<void> = (async () => {
      await cluster.awareness.leave(room.name)
      if (role.kind !== 'owner') return
      await room.lastCommit
      await role.published
      if (cluster.leases.held(room.name) !== role.lease) return // lost: another process owns it
      await cluster.leases.release(room.name)
      await cluster.feed.publish(room.name, { fence: role.lease.fence, n: ++role.n }, new Uint8Array(), RELEASED)
    })().catch((err: Error) => console.warn('cluster: leaving failed', room.name, err.message)).finally(() => {
      if (this.#detaching.get(room.name) === left) this.#detaching.delete(room.name)
    })
    this.#detaching.set(room.name, left)
  }

  /**
   * Followed docs whose owner died without letting them go (its lease lapsed, no `released`
   * entry): their clients re-sync and the next open takes the lease, before a write of theirs
   * has to go unanswered first.
   */
  async #followOrphans() {
    const followed = [...this.#rooms.values()].filter((r) => r.role?.kind === 'follower')
    const owners = await this.#cluster!.leases.owners(followed.map((r) => r.name)).catch(() => null) // Redis away: next time
    owners?.forEach((owner, i) => owner === null && this.#discard(followed[i]!, 'its owner is gone'))
  }

  /**
   * Closing: the leases go and the followers of each owned doc are told, before the sockets
   * close, so the clients reconnecting elsewhere find the docs free instead of waiting out a
   * lease. Rooms still live are not left one by one: the connections go with the process.
   */
  async #leaveClusterAll() {
    const cluster = this.#cluster
    if (!cluster) return
    const owned = [...this.#rooms.values()].flatMap((r) => (r.role?.kind === 'owner' && cluster.leases.held(r.name) === r.role.lease ? [{ name: r.name, role: r.role }] : []))
    await cluster.leases.close().catch(() => {})
    await Promise.all(owned.map(({ name, role }) => cluster.feed.publish(name, { fence: role.lease.fence, n: ++role.n }, new Uint8Array(), RELEASED).catch(() => {})))
    await cluster.close()
  }

  /** Another process owns the doc now: this instance's clients re-sync, the next open follows. */
  #onLeaseLost(lease: Lease) {
    const room = this.#rooms.get(lease.doc)
    if (room?.role?.kind === 'owner' && room.role.lease === lease) this.#discard(room, 'another process owns it now')
  }

  #onDocUpdate(room: Room, update: Uint8Array, origin: unknown) {
    if (origin === LOAD) return
    if (origin === REMOTE) return this.#relayRemote(room, update)
    const who: Origin = isOrigin(origin) ? origin : serverOrigin('unattributed')
    const { created, updated } = room.takeChanges()
    room.encodedBytes += update.byteLength
    const applying = room.applying?.origin === origin ? room.applying : null
    if (applying) {
      const violations = afterApplyViolations(applying, created, updated)
      if (violations.length > 0) return this.#discard(room, `an accepted update broke the rules: ${violations.join('; ')}`, update)
    }
    const boardChanges = room.board?.take() ?? null
    if (applying && boardChanges) {
      const violations = afterApplyBoardViolations(applying, boardChanges, room.doc)
      if (violations.length > 0) return this.#discard(room, `an accepted update broke the board rules: ${violations.join('; ')}`, update)
    }
    const scope = this.#boardScopes.get(room)
    const boardIndexed = boardChanges && scope
      ? this.#tasks.prepare(scope, room.board!, room.doc, [
          ...[...boardChanges.createdTasks, ...boardChanges.updatedTasks].map((m) => String(m.get('id'))),
          ...[...boardChanges.createdComments, ...boardChanges.updatedComments].map((m) => String(m.get('taskId')))
        ], [...boardChanges.createdComments, ...boardChanges.updatedComments])
      : null
    const convId = room.parsed.kind === 'board' ? null : room.conversationId
    const indexed = convId ? this.#index.prepare(room.name, convId, [...created, ...updated]) : null
    const bindings = applying?.newClients.map((client) => ({ client, memberId: applying.origin.memberId })) ?? []
    for (const b of bindings) room.clientOwners.set(b.client, b.memberId)
    room.inflight++
    const role = room.role
    const commit = this.#store.appendUpdate(room.name, update, (tx) => {
      // A discarded room's later updates may build on one that was never stored.
      if (room.discarded) throw new Error('the document is being reloaded')
      // In order; on PostgreSQL each awaited on the transaction before the next.
      return inSequence([
        role?.kind === 'owner' ? () => this.#storage.checkFence(tx, room.name, role.lease.fence) : null,
        indexed && (() => indexed.write(tx)),
        boardIndexed && (() => boardIndexed.write(tx)),
        () => this.#rows.bindClients(tx, room.name, bindings)
      ])
    })
    room.lastAppend = commit
    if (role?.kind === 'owner') this.#publish(room, role, update, origin, commit)
    room.lastCommit = commit.then(() => {
      room.inflight--
      this.#storageError = null
      indexed?.done()
      boardIndexed?.done()
      const bytes = syncUpdateFrame(update)
      for (const c of room.conns) {
        if (who.source === 'connection' && who.connectionId === c.id) c.sendAck()
        else c.send(bytes)
      }
      if (indexed && convId) {
        const createdIds = new Set(created.map((m) => m.get('id')))
        for (const message of indexed.messages) {
          const change: MessageChange = { kind: createdIds.has(message.id) ? 'created' : 'updated', docName: room.name, conversationId: convId, message, origin: who }
          for (const listener of this.#listeners) {
            try { listener(change) } catch (err) { console.error('change listener failed', err) }
          }
        }
        if (created.length > 0) this.#inBackground(this.#afterNewMessages(room).catch((err) => console.error('post-commit work failed', room.name, err)))
      }
      // A member's accepted board edit is recorded as activity by the server, under its name.
      if (applying && boardChanges && boardIndexed) {
        const entries = boardActivity(applying, boardChanges, boardIndexed.tasks, Date.now())
        if (entries.length > 0) this.#inBackground(this.transact(room.name, serverOrigin('activity'), (d) => recordActivity(d, entries)).catch((err) => console.error('activity failed', room.name, err)))
      }
      // Snapshot only when memory equals storage: every applied update of this doc is committed.
      if (++room.updatesSinceCompact >= this.config.compactEvery && room.inflight === 0 && !room.discarded) {
        room.updatesSinceCompact = 0
        const snapshot = Y.encodeStateAsUpdate(room.doc)
        room.encodedBytes = snapshot.byteLength
        void this.#store.compact(room.name, snapshot).catch((err) => console.error('compaction failed', room.name, err))
        if (room.board) void this.#archiveDone(room).catch((err) => console.error('task archive failed', room.name, err))
      }
    }, (err) => {
      room.inflight--
      indexed?.done()
      boardIndexed?.done()
      if (room.discarded) return
      const why = err instanceof Error ? err.message : String(err)
      // Fenced out is no storage failure: another process owns the doc, its clients re-sync.
      if (err instanceof FencedOut) return this.#discard(room, why)
      this.#storageError = why
      const writer = who.source === 'connection' ? [...room.conns].find((c) => c.id === who.connectionId) : undefined
      writer?.sendReject(R.storageFailure, STORAGE_FAILURE_DETAIL)
      this.#discard(room, `could not persist an update: ${this.#storageError}`)
    })
  }

  /**
   * Sealing is several writes (SQLite's live_segment, the old segment's meta, each member's
   * summary); a crash between them must not leave clients writing to an old segment. So a
   * member's summaries are brought to SQLite's live segment whenever they attach their `me:`
   * doc, and a segment behind the live one is sealed whenever it loads.
   */
  async #reconcileSegments(room: Room) {
    if (room.parsed.kind === 'me') {
      const stale: Array<{ id: string; live: number }> = []
      for (const [id, summary] of [...meConversationsOf(room.doc)]) {
        const live = await this.#rows.liveSegment(id)
        if (live !== undefined && live !== summary.liveSegment) stale.push({ id, live })
      }
      if (stale.length === 0) return
      await this.transact(room.name, serverOrigin('reconcile segments'), (d) => {
        for (const { id, live } of stale) {
          const summary = meConversationsOf(d).get(id)
          if (summary) putConversation(d, { ...summary, liveSegment: live })
        }
      })
    } else if (room.parsed.kind === 'conv') {
      const live = await this.#rows.liveSegment(room.parsed.conversationId)
      const meta = readSegmentMeta(room.doc)
      if (live !== undefined && room.parsed.segment < live && meta && !meta.sealed) await this.transact(room.name, serverOrigin('reconcile segments'), (d) => sealSegment(d))
    }
  }

  /**
   * Done tasks untouched for `boardArchiveDays` leave the board doc (at most `boardArchiveBatch`
   * per run), kept whole in their task index rows. The rows are written first: a crash before
   * the doc write leaves the tasks on the board, archived again on its next load. A row is
   * archived only as the task stood (its updatedAt), and the doc drops only tasks still so: a
   * task edited in between stays on the board, its row live (the edit's index write clears an
   * archive that landed first; one that lands after the edit's finds another updatedAt).
   */
  async #archiveDone(room: Room) {
    const scope = this.#boardScopes.get(room)
    if (!scope || room.discarded) return
    const before = Date.now() - this.config.boardArchiveDays * 86_400_000
    const due = archivableTasks(room.doc, before, this.config.boardArchiveBatch)
    if (due.length === 0) return
    await this.#tasks.archive(scope, due, Date.now())
    const archived = new Map(due.map((a) => [a.task.id, a.task.updatedAt]))
    await this.transact(room.name, serverOrigin('archive tasks'), (d) => {
      removeTasks(d, listTasks(d).filter((t) => archived.get(t.id) === t.updatedAt).map((t) => t.id))
    })
  }

  #inBackground(work: Promise<unknown>) {
    this.#afterCommit.add(work)
    void work.finally(() => this.#afterCommit.delete(work))
  }

  /** Thread replies count on their root; a full live segment is sealed and the next one opened. */
  async #afterNewMessages(room: Room) {
    const { parsed, doc } = room
    if (parsed.kind === 'thread') {
      const rootDoc = await this.#index.docOf(parsed.rootMessageId)
      const replies = messagesOf(doc)
      const last = replies.get(replies.length - 1)
      if (rootDoc) await this.transact(rootDoc, serverOrigin('thread reply'), (d) => noteThreadReply(d, parsed.rootMessageId, replies.length, Number(last.get('createdAt'))))
    } else if (parsed.kind === 'conv') {
      const meta = readSegmentMeta(doc)
      if (!meta || meta.sealed || messagesOf(doc).length < this.#segmentSize) return
      const next = parsed.segment + 1
      if (!(await this.#rows.bumpSegment(parsed.conversationId, parsed.segment, next))) return
      await this.transact(room.name, serverOrigin('seal segment'), (d) => sealSegment(d))
      await this.#room(docName.conv(parsed.conversationId, next))
      for (const memberId of await this.#rows.memberIds(parsed.conversationId)) {
        await this.transact(docName.me(memberId), serverOrigin('seal segment'), (d) => {
          const summary = meConversationsOf(d).get(parsed.conversationId)
          if (summary) putConversation(d, { ...summary, liveSegment: next })
        })
      }
    }
  }

  /**
   * Keeps live docs within `docBudgetBytes` (estimated heap, Room.heapBytes): evicts docs nobody
   * is connected to, least recently used first. The next open reloads them from SQLite.
   */
  #evictIdle(now = Date.now()) {
    let total = 0
    for (const room of this.#rooms.values()) total += room.heapBytes
    if (total <= this.config.docBudgetBytes) return
    const idle = [...this.#rooms.values()].filter((r) => this.#unloadable(r) && now - r.lastUsed >= this.config.docGraceMs).sort((a, b) => a.lastUsed - b.lastUsed)
    for (const room of idle) {
      if (total <= this.config.docBudgetBytes) break
      total -= room.heapBytes
      this.#unload(room)
    }
  }

  /** Sealed segments are read-only history: one nobody is connected to leaves memory soon. */
  #sweepIdle() {
    const now = Date.now()
    for (const room of [...this.#rooms.values()]) {
      if (room.parsed.kind !== 'conv' || now - room.lastUsed < this.config.sealedIdleMs || !this.#unloadable(room)) continue
      if (readSegmentMeta(room.doc)?.sealed) this.#unload(room)
    }
    this.#evictIdle(now)
  }

  /**
   * Nobody connected, nothing applied in memory that is not committed yet (inflight; the store
   * settles its commits before the doc is destroyed), and no presence of the server's own on it
   * (which lives only in memory).
   */
  #unloadable(room: Room): boolean {
    return room.conns.size === 0 && room.inflight === 0 && !room.discarded && room.applying === null && room.awareness.getLocalState() === null
  }

  #unload(room: Room) {
    this.#rooms.delete(room.name)
    this.#leaveCluster(room)
    void room.lastCommit.finally(() => room.doc.destroy())
  }

  // ---- server API --------------------------------------------------------------------------

  async transact<T>(name: string, origin: Origin, fn: (doc: Y.Doc) => T): Promise<T> {
    let room = await this.#room(name)
    // Unloaded while this waited its turn: write to the instance that is live (an unloaded doc
    // has no update listener, so an edit to it would be lost).
    while (this.#rooms.get(name) !== room && !room.discarded) room = await this.#room(name)
    room.lastUsed = Date.now()
    if (room.role?.kind === 'follower') return this.#transactForwarded(room, origin, fn)
    const before = room.lastAppend
    let result!: T
    room.doc.transact(() => {
      result = fn(room.doc)
    }, origin)
    if (room.lastAppend !== before) {
      try {
        await room.lastAppend
      } catch (err) {
        throw new StorageFailure(err)
      }
    }
    return result
  }

  /**
   * Follower: the edit runs on a copy of the doc and goes to the owner as an update under its
   * origin. One at a time per
   * doc: the next copy must hold the previous edit, or two would claim the same Yjs ids. Resolves
   * once the owner committed it and this process's doc has it.
   */
  async #transactForwarded<T>(room: Room, origin: Origin, fn: (doc: Y.Doc) => T): Promise<T> {
    const turn = room.forwardedEdits.then(() => this.#editForwarded(room, origin, fn))
    room.forwardedEdits = turn.then(() => {}, () => {})
    return turn
  }

  async #editForwarded<T>(room: Room, origin: Origin, fn: (doc: Y.Doc) => T): Promise<T> {
    if (room.discarded) return this.transact(room.name, origin, fn)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(room.doc))
    copy.clientID = room.editClient // after loading, or Yjs would move off it
    const updates: Uint8Array[] = []
    copy.on('update', (u: Uint8Array) => updates.push(u))
    let result!: T
    try {
      copy.transact(() => {
        result = fn(copy)
      }, origin)
    } finally {
      copy.destroy()
    }
    if (updates.length === 0) return result
    const update = Y.mergeUpdates(updates)
    const sent: ForwardedFrom = { server: origin }
    room.inflight++ // not unloaded while its edit is on the way: it waits for the feed below
    try {
      const reply = await this.#cluster!.forwarder.forward(room.name, JSON.stringify(sent), update)
        .catch((err: Error): Reply => (console.warn('cluster:', err.message), { kind: 'resync' }))
      if (reply.kind === 'resync') {
        // Outcome unknown: what the database holds decides; the caller may retry (an update
        // already stored applies as nothing).
        this.#discard(room, 'its owner did not answer a forwarded edit')
        throw new StorageFailure(new Error('the document\'s owner did not answer; try again'))
      }
      if (reply.kind === 'reject') throw new StorageFailure(new Error(reply.detail))
      await this.#holds(room, update)
      return result
    } finally {
      room.inflight--
    }
  }

  /** Resolves once the room's doc holds `update`'s structs (from the feed, or the database). */
  async #holds(room: Room, update: Uint8Array): Promise<void> {
    const target = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))
    const has = () => room.discarded || [...target].every(([client, clock]) => Y.getState(room.doc.store, client) >= clock)
    if (has()) return
    await new Promise<void>((resolve) => {
      const check = () => has() && done()
      const timer = setTimeout(() => void this.#catchUpFromStore(room).catch(() => {}).finally(done), this.#cluster!.replyTimeoutMs)
      const done = () => {
        clearTimeout(timer)
        room.doc.off('update', check)
        resolve()
      }
      room.doc.on('update', check)
    })
  }

  storageError(): string | null {
    return this.#storageError
  }

  liveDocs(): { docs: number; heapBytes: number; names: string[] } {
    let heapBytes = 0
    for (const room of this.#rooms.values()) heapBytes += room.heapBytes
    return { docs: this.#rooms.size, heapBytes, names: [...this.#rooms.keys()] }
  }

  connectedMembers(): Set<string> {
    const ids = new Set<string>()
    for (const room of this.#rooms.values()) for (const c of room.conns) ids.add(c.principal.memberId)
    return ids
  }

  async getDoc(name: string): Promise<Y.Doc> {
    return (await this.#room(name)).doc
  }

  async setServerPresence(name: string, state: Record<string, unknown> | null): Promise<void> {
    const room = await this.#room(name)
    room.awareness.setLocalState(state)
  }

  revokeCredential(credentialId: string): void {
    this.#revoke({ kind: 'credential', credentialId })
  }

  revokeMember(memberId: string): void {
    this.#revoke({ kind: 'member', memberId })
  }

  reauthorizeMember(memberId: string): void {
    this.#revoke({ kind: 'reauthorize', memberId })
  }

  revokeConversation(memberId: string, conversationId: string): void {
    this.#revoke({ kind: 'conversation', memberId, conversationId })
  }

  /** Closes the sockets a revocation names here, and on the other processes of a cluster. */
  #revoke(r: Revocation) {
    this.#revokeHere(r)
    this.#cluster?.revoke(r)
  }

  #revokeHere(r: Revocation) {
    switch (r.kind) {
      case 'credential': {
        const { credentialId } = r
        for (const room of this.#rooms.values()) {
          for (const c of room.conns) if (c.principal.credentialId === credentialId) c.ws.close(closeCode.unauthorized, 'session ended')
        }
        return
      }
      case 'member': {
        const { memberId } = r
        for (const room of this.#rooms.values()) {
          for (const c of room.conns) if (c.principal.memberId === memberId) c.ws.close(closeCode.unauthorized, 'member deactivated')
        }
        return
      }
      case 'reauthorize': {
        const { memberId } = r
        for (const room of this.#rooms.values()) {
          for (const c of room.conns) if (c.principal.memberId === memberId) c.ws.close(closeCode.resync, 'role changed')
        }
        return
      }
      case 'conversation': {
        const { memberId, conversationId } = r
        for (const room of this.#rooms.values()) {
          const kind = room.parsed.kind
          if (kind !== 'conv' && kind !== 'board' && kind !== 'thread') continue
          // Rooms know their conversation (a thread's from its root); one loaded before its
          // root was indexed does not, and is decided by the access check itself.
          if (room.conversationId !== conversationId && room.conversationId !== null) continue
          for (const c of room.conns) {
            if (c.principal.memberId !== memberId) continue
            if (room.conversationId === conversationId) {
              c.ws.close(closeCode.revoked, 'access revoked')
              continue
            }
            const closed = mapGot(this.#access.check(c.principal, room.parsed), (access) => void (access || c.ws.close(closeCode.revoked, 'access revoked')))
            if (closed instanceof Promise) closed.catch((err) => console.error('sync: could not re-check access', room.name, err))
          }
        }
      }
    }
  }

  onMessageChange(listener: (change: MessageChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  onDocOwned(listener: (name: string, doc: Y.Doc) => void): () => void {
    this.#ownedListeners.add(listener)
    return () => this.#ownedListeners.delete(listener)
  }

  /**
   * Graceful: stops taking upgrades and client updates, lets pending commits finish (their acks
   * go out), then closes every socket with closeCode.restarting so clients reconnect to the next
   * process; sockets that do not finish the close handshake within `graceMs` are terminated.
   */
  async close(graceMs = 1000): Promise<void> {
    this.#closing = true
    clearInterval(this.#sweep)
    if (this.#orphans) clearInterval(this.#orphans)
    // A settled commit has started its post-commit work, which may commit again and start more:
    // a few rounds, then whatever is left fails.
    await Promise.all([...this.#rooms.values()].map((r) => r.lastCommit.catch(() => {})))
    for (let round = 0; round < 3 && this.#afterCommit.size > 0; round++) await Promise.all([...this.#afterCommit])
    await Promise.all([...this.#rooms.values()].map((r) => r.lastCommit.catch(() => {})))
    await Promise.all([...this.#rooms.values()].map((r) => (r.role?.kind === 'owner' ? r.role.published : null)))
    await this.#store.close()
    await this.#leaveClusterAll()
    await closeGracefully(this.#wss.clients, closeCode.restarting, 'server restarting', graceMs)
    this.#wss.close()
  }
}

const serverOrigin = (reason: string): Origin => ({ source: 'server', reason })

/** What the guard's decision on a member's update is read from (#guardReads). */
interface GuardReads {
  access: Access
  joinedAt: number
  acceptsNewMessages: boolean
}

/** The guard's lookups of ids and uploads (the index's, or GuardLookups' on PostgreSQL). */
type GuardLookupsOf = Pick<GuardContext, 'idTaken' | 'fileOf' | 'taskIdTaken'>

/** OWN9: a conversation segment takes new messages while live or just sealed, never older. */
function acceptsNewMessages(room: Room, conv: ConversationAccess | undefined): boolean {
  if (room.parsed.kind !== 'conv') return true
  const live = conv?.liveSegment
  return live !== undefined && room.parsed.segment >= live - 1 && room.parsed.segment <= live
}

const STORAGE_FAILURE_DETAIL = 'the server could not store this change (storage full or read-only); it was not applied'

const syncUpdateFrame = (update: Uint8Array): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, messageType.sync)
  syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

/** Who an update came from, for its answer: a local connection, or a request forwarded here. */
interface Writer {
  origin: Extract<Origin, { source: 'connection' }>
  ack(): void
  refuse(reason: RejectReason, detail: string): void
  /** The update creates this many messages: false if the writer's limit has no room for them. */
  takeMessages(count: number): boolean
}

/** What a forwarded update carries about its author: a member (and the new messages its
 *  connection may still send), or the server's origin for an edit made on a follower. */
type ForwardedFrom = { member: Principal; messages: number } | { server: Origin }

const ROLES = new Set(['admin', 'member', 'guest'])
const KINDS = new Set(['user', 'agent', 'bot'])
/** Redis is shared infrastructure, not a trust boundary, but a bad entry gets a clear refusal. */
function parseForwarded(json: string): ForwardedFrom | null {
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  if (isOrigin(o.server)) return o.server.source === 'connection' ? null : { server: o.server }
  const m = o.member as Record<string, unknown> | undefined
  if (typeof m !== 'object' || m === null || typeof m.memberId !== 'string' || typeof m.workspaceId !== 'string' || !ROLES.has(m.role as string) || !KINDS.has(m.kind as string) || typeof o.messages !== 'number') return null
  return { member: { memberId: m.memberId, workspaceId: m.workspaceId, role: m.role as Principal['role'], kind: m.kind as Principal['kind'] }, messages: o.messages }
}

/** Runs once the room's pending commits are through (and their acks sent). */
const afterCommits = (conn: Connection, fn: () => void) => void conn.room.lastCommit.catch(() => {}).then(fn)

/**
 * A refusal answers its update after the acks of the updates before it: a client with several
 * updates in flight (the outbox) then knows which one each answer is for.
 */
const refuseInOrder = (conn: Connection, reason: RejectReason, detail: string) => afterCommits(conn, () => conn.sendReject(reason, detail))

/** The awareness ids this process speaks for in a room: its connections' and the room's own. */
function localAwarenessIds(room: Room): Set<number> {
  const ids = new Set<number>([room.awareness.clientID])
  for (const c of room.conns) for (const id of c.awarenessClients) ids.add(id)
  return ids
}

/**
 * Presence and typing name their member: a client may only speak as itself, and never set the
 * server's own keys (`thinking`, `agentsOnline`). Awareness is not stored, but a spoofed "X is
 * typing" or "the agent is online" misleads.
 */
const SERVER_PRESENCE_KEYS = ['thinking', 'agentsOnline']
function ownsPresence(stateJson: string, memberId: string): boolean {
  let state: unknown
  try {
    state = JSON.parse(stateJson)
  } catch {
    return false
  }
  if (state === null) return true
  if (typeof state !== 'object' || Array.isArray(state)) return false
  const s = state as Record<string, unknown>
  return !SERVER_PRESENCE_KEYS.some((k) => k in s) && (s.memberId === undefined || s.memberId === memberId)
}

function refuseUpgrade(socket: Duplex, status: number, text: string) {
  if (!socket.writable) return socket.destroy()
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`)
}
