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
  meConversationsOf, putConversation, snapshotMessage, DEFAULT_SEGMENT_SIZE, isId, initBoard, archivableTasks,
  removeTasks, type MessageWriteContext
} from '@circlechat/model'
import { messageType, rejectReason as R, closeCode, type RejectReason } from '@circlechat/protocol'
import type { MessageChange, Principal, SyncServer, SyncServerOptions } from './types.js'
import { isOrigin, type Origin } from './origins.js'
import { syncDefaults, type SyncConfig } from './config.js'
import { SqliteStore, type SqliteWrite } from './persistence/sqlite.js'
import type { DocStore } from './persistence/store.js'
import { sqliteRows } from './persistence/rows-sqlite.js'
import { AccessControl } from './access.js'
import { MessageIndex } from './message-index.js'
import { TaskIndex, type BoardScope } from './task-index.js'
import { boardActivity, recordActivity } from './board-activity.js'
import { Room } from './room.js'
import { Connection } from './connection.js'
import { guardUpdate } from './guard/index.js'
import { afterApplyViolations, afterApplyBoardViolations, boardBefore } from './guard/after-apply.js'
import { StorageFailure } from './storage-failure.js'
import { TokenBucket } from './rate-limit.js'
import { closeGracefully } from './socket-health.js'
import { PresenceFanout, changesNothing } from './presence.js'

const LOAD = Symbol('load')
/** Awareness client ids one connection may speak for: a tab reconnecting keeps a few. */
const MAX_AWARENESS_CLIENTS = 4
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
  readonly #db: Db
  readonly #store: DocStore<SqliteWrite>
  readonly #access: AccessControl<false>
  readonly #index: MessageIndex<Db, false>
  readonly #tasks: TaskIndex<Db, false>
  readonly #rows: ReturnType<typeof sqliteRows>
  /** Board rooms: where their tasks are indexed. */
  readonly #boardScopes = new WeakMap<Room, BoardScope>()
  readonly #authenticate: SyncServerOptions['authenticate']
  readonly #credentialExpiry: SyncServerOptions['credentialExpiry']
  readonly #segmentSize: number
  readonly #wss: WebSocketServer
  readonly #rooms = new Map<string, Room>()
  readonly #loading = new Map<string, Promise<Room>>()
  readonly #listeners = new Set<(change: MessageChange) => void>()
  /** Each room's presence batching (presence.ts). */
  readonly #presence = new WeakMap<Room, PresenceFanout>()
  /** Set by close(): no new upgrades, and client messages are no longer applied. */
  #closing = false
  /** `<doc>|<member>` → that member's catch-up pools on that doc (config.catchUp*). */
  readonly #catchUps = new Map<string, { updates: TokenBucket; messages: TokenBucket; used: number }>()
  /** The last storage failure, until a write succeeds again (health reports it). */
  #storageError: string | null = null
  /** Unloads idle sealed segments and keeps live docs within the budget as they grow. */
  readonly #sweep: NodeJS.Timeout

  constructor(options: SyncServerOptions, config: Partial<SyncConfig> = {}) {
    this.config = { ...syncDefaults, ...config }
    this.#db = options.db
    this.#store = new SqliteStore(options.db)
    const rows = sqliteRows(options.db)
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
    const access = this.#access.check(principal, parsed)
    if (!access) return refuseUpgrade(socket, 403, 'Forbidden')
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, principal, name))
  }

  #connect(ws: WebSocket, principal: Principal, name: string) {
    // Messages may arrive while the doc loads; handle them strictly in order.
    let chain: Promise<Connection | null> = this.#room(name).then((room) => {
      if (!this.#admit(ws, principal, room)) return null
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
      chain = chain.then((conn) => {
        // A socket being closed (revoked) is heard no more: no update, no presence, no read.
        if (conn && ws.readyState === ws.OPEN) this.#onMessage(conn, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
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
  #admit(ws: WebSocket, principal: Principal, room: Room): boolean {
    if (ws.readyState !== ws.OPEN) return false // gone while the doc loaded: nothing to attach
    const until = this.#validUntil(principal)
    if (until === null || until <= Date.now()) {
      ws.close(closeCode.unauthorized, 'session ended')
      return false
    }
    if (!this.#access.check(principal, room.parsed)) {
      ws.close(closeCode.revoked, 'access revoked')
      return false
    }
    this.#closeAtExpiry(ws, principal, until)
    return true
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

  #onMessage(conn: Connection, bytes: Uint8Array) {
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
          this.#onClientUpdate(conn, decoding.readVarUint8Array(decoder))
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

  #onClientUpdate(conn: Connection, update: Uint8Array) {
    const { room, principal } = conn
    if (room.discarded) return
    const until = this.#validUntil(principal)
    if (until === null || until <= Date.now()) {
      conn.ws.close(closeCode.unauthorized, 'session ended')
      return
    }
    const access = this.#access.check(principal, room.parsed)
    if (!access) {
      conn.sendReject(R.notMember, 'you are no longer a member')
      conn.ws.close(closeCode.revoked, 'access revoked')
      return
    }
    if (!conn.updates.take()) return refuseInOrder(conn, R.rateLimited, 'too many updates; slow down')
    const rules: MessageWriteContext = {
      sender: principal.memberId,
      isAdmin: principal.role === 'admin',
      now: Date.now(),
      joinedAt: this.#joinedAt(room, principal.memberId),
      threadRoot: room.parsed.kind === 'thread' ? room.parsed.rootMessageId : null
    }
    const result = guardUpdate(room.doc, update, {
      ...rules,
      docName: room.parsed,
      maxUpdateBytes: this.config.maxUpdateBytes,
      acceptsNewMessages: this.#acceptsNewMessages(room),
      idTaken: (id) => this.#index.idTaken(id),
      fileOf: (key) => this.#index.fileOf(key),
      clientOwner: (client) => room.clientOwners.get(client),
      taskIdTaken: (id) => this.#tasks.idTaken(id),
      commentIdTaken: (id) => room.board?.commentIds.has(id) ?? false
    })
    if (!result.ok) {
      console.warn(`guard: rejected update from ${principal.memberId} on ${room.name}: ${result.reason} (${result.detail})`)
      return refuseInOrder(conn, result.reason, result.detail)
    }
    // e.g. y-websocket's step 2 answer on a read-only doc: nothing to refuse. Acknowledged, after
    // the commits before it, so a client counting acks (its outbox) never waits for it.
    if (result.empty) return void afterCommits(conn, () => conn.sendAck())
    if (!access.canWrite) return refuseInOrder(conn, R.readOnly, access.readOnlyReason ?? `${room.parsed.kind} docs are written by the server`)
    if (result.newMessages > 0 && !conn.messages.take(result.newMessages)) return refuseInOrder(conn, R.rateLimited, 'too many messages; slow down')
    const origin: Origin = { source: 'connection', memberId: principal.memberId, connectionId: conn.id }
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

  /** When the member joined the doc's conversation: nobody writes messages dated before that. */
  #joinedAt(room: Room, memberId: string): number {
    if (!room.conversationId) return 0
    return this.#access.conversation(room.conversationId, memberId)?.joinedAt ?? Number.MAX_SAFE_INTEGER
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
    void room.lastCommit.finally(() => room.doc.destroy())
  }

  #acceptsNewMessages(room: Room): boolean {
    if (room.parsed.kind !== 'conv') return true
    const live = this.#rows.liveSegment(room.parsed.conversationId)
    return live !== undefined && room.parsed.segment >= live - 1 && room.parsed.segment <= live
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
    const owned = new Set<number>([conn.room.awareness.clientID])
    for (const c of conn.room.conns) if (c !== conn) for (const id of c.awarenessClients) owned.add(id)
    const ids = new Set<number>()
    for (let i = 0; i < count; i++) {
      const id = decoding.readVarUint(d)
      decoding.readVarUint(d)
      if (!ownsPresence(decoding.readVarString(d), conn.principal.memberId)) return
      if (owned.has(id)) return
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
      : parsed.kind === 'thread' ? (this.#rows.threadConversation(parsed.rootMessageId) ?? null)
      : null
    const room = new Room(name, parsed, conversationId)
    const updates = await this.#store.loadDoc(name)
    room.doc.transact(() => {
      for (const u of updates) Y.applyUpdate(room.doc, u)
    }, LOAD)
    room.takeChanges()
    room.updatesSinceCompact = updates.length
    for (const u of updates) room.encodedBytes += u.byteLength
    for (const b of this.#rows.clients(name)) room.clientOwners.set(b.client, b.memberId)
    room.doc.on('update', (update: Uint8Array, origin: unknown) => this.#onDocUpdate(room, update, origin))
    // Presence goes out in batches (transitions within a second, renewals within a few), never
    // one frame per renewal per socket: see presence.ts.
    this.#presence.set(room, new PresenceFanout(room.awareness, (bytes) => {
      for (const c of room.conns) c.send(bytes)
    }, { flushMs: this.config.presenceFlushMs, renewMs: this.config.presenceRenewMs }))
    this.#evictIdle() // before this room joins the others: never evicted before its caller has it
    this.#rooms.set(name, room)
    if (parsed.kind === 'conv' && !readSegmentMeta(room.doc)) initSegment(room.doc, parsed.conversationId, parsed.segment, serverOrigin('init segment'))
    if (parsed.kind === 'board') {
      room.board!.take()
      // A board whose conversation is unknown gets no meta and no index rows until it exists.
      const workspaceId = conversationId ? this.#rows.workspaceOf(conversationId) : parsed.conversationId
      if (workspaceId) {
        this.#boardScopes.set(room, { board: parsed.conversationId, workspaceId, conversationId })
        initBoard(room.doc, { conversationId, workspaceId }, serverOrigin('init board'))
        void this.#archiveDone(room).catch((err) => console.error('task archive failed', name, err))
      }
    }
    if (parsed.kind === 'conv') void this.#reconcileSegments(room).catch((err) => console.error('segment reconcile failed', name, err))
    return room
  }

  #onDocUpdate(room: Room, update: Uint8Array, origin: unknown) {
    if (origin === LOAD) return
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
    const commit = this.#store.appendUpdate(room.name, update, (tx) => {
      // A discarded room's later updates may build on one that was never stored.
      if (room.discarded) throw new Error('the document is being reloaded')
      indexed?.write(tx)
      boardIndexed?.write(tx)
      this.#rows.bindClients(tx, room.name, bindings)
    })
    room.lastAppend = commit
    room.lastCommit = commit.then(() => {
      room.inflight--
      this.#storageError = null
      indexed?.done()
      boardIndexed?.done()
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, messageType.sync)
      syncProtocol.writeUpdate(e, update)
      const bytes = encoding.toUint8Array(e)
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
        if (created.length > 0) void this.#afterNewMessages(room).catch((err) => console.error('post-commit work failed', room.name, err))
      }
      // A member's accepted board edit is recorded as activity by the server, under its name.
      if (applying && boardChanges && boardIndexed) {
        const entries = boardActivity(applying, boardChanges, boardIndexed.tasks, Date.now())
        if (entries.length > 0) void this.transact(room.name, serverOrigin('activity'), (d) => recordActivity(d, entries)).catch((err) => console.error('activity failed', room.name, err))
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
      this.#storageError = err instanceof Error ? err.message : String(err)
      const writer = who.source === 'connection' ? [...room.conns].find((c) => c.id === who.connectionId) : undefined
      writer?.sendReject(R.storageFailure, 'the server could not store this change (storage full or read-only); it was not applied')
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
      for (const [id, summary] of meConversationsOf(room.doc)) {
        const live = this.#rows.liveSegment(id)
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
      const live = this.#rows.liveSegment(room.parsed.conversationId)
      const meta = readSegmentMeta(room.doc)
      if (live !== undefined && room.parsed.segment < live && meta && !meta.sealed) await this.transact(room.name, serverOrigin('reconcile segments'), (d) => sealSegment(d))
    }
  }

  /**
   * Done tasks untouched for `boardArchiveDays` leave the board doc (at most `boardArchiveBatch`
   * per run), kept whole in their task index rows. The rows are written first, in the same turn:
   * a crash before the doc write leaves the tasks on the board, archived again on its next load,
   * and a task edited meanwhile is re-indexed as live (its archive cleared).
   */
  async #archiveDone(room: Room) {
    const scope = this.#boardScopes.get(room)
    if (!scope || room.discarded) return
    const before = Date.now() - this.config.boardArchiveDays * 86_400_000
    if (archivableTasks(room.doc, before, 1).length === 0) return
    await this.transact(room.name, serverOrigin('archive tasks'), (d) => {
      const due = archivableTasks(d, before, this.config.boardArchiveBatch)
      this.#tasks.archive(scope, due, Date.now())
      removeTasks(d, due.map((a) => a.task.id))
    })
  }

  /** Thread replies count on their root; a full live segment is sealed and the next one opened. */
  async #afterNewMessages(room: Room) {
    const { parsed, doc } = room
    if (parsed.kind === 'thread') {
      const rootDoc = this.#index.docOf(parsed.rootMessageId)
      const replies = messagesOf(doc)
      const last = replies.get(replies.length - 1)
      if (rootDoc) await this.transact(rootDoc, serverOrigin('thread reply'), (d) => noteThreadReply(d, parsed.rootMessageId, replies.length, Number(last.get('createdAt'))))
    } else if (parsed.kind === 'conv') {
      const meta = readSegmentMeta(doc)
      if (!meta || meta.sealed || messagesOf(doc).length < this.#segmentSize) return
      const next = parsed.segment + 1
      if (!this.#rows.bumpSegment(parsed.conversationId, parsed.segment, next)) return
      await this.transact(room.name, serverOrigin('seal segment'), (d) => sealSegment(d))
      await this.#room(docName.conv(parsed.conversationId, next))
      for (const memberId of this.#rows.memberIds(parsed.conversationId)) {
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
    void room.lastCommit.finally(() => room.doc.destroy())
  }

  // ---- server API --------------------------------------------------------------------------

  async transact<T>(name: string, origin: Origin, fn: (doc: Y.Doc) => T): Promise<T> {
    let room = await this.#room(name)
    // Unloaded while this waited its turn: write to the instance that is live (an unloaded doc
    // has no update listener, so an edit to it would be lost).
    while (this.#rooms.get(name) !== room && !room.discarded) room = await this.#room(name)
    room.lastUsed = Date.now()
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
    for (const room of this.#rooms.values()) {
      for (const c of room.conns) if (c.principal.credentialId === credentialId) c.ws.close(closeCode.unauthorized, 'session ended')
    }
  }

  revokeMember(memberId: string): void {
    for (const room of this.#rooms.values()) {
      for (const c of room.conns) if (c.principal.memberId === memberId) c.ws.close(closeCode.unauthorized, 'member deactivated')
    }
  }

  reauthorizeMember(memberId: string): void {
    for (const room of this.#rooms.values()) {
      for (const c of room.conns) if (c.principal.memberId === memberId) c.ws.close(closeCode.resync, 'role changed')
    }
  }

  revokeConversation(memberId: string, conversationId: string): void {
    for (const room of this.#rooms.values()) {
      const kind = room.parsed.kind
      if (kind !== 'conv' && kind !== 'board' && kind !== 'thread') continue
      // Rooms know their conversation (a thread's from its root); one loaded before its root was
      // indexed does not, and is decided by the access check itself.
      if (room.conversationId !== conversationId && room.conversationId !== null) continue
      for (const c of room.conns) {
        if (c.principal.memberId !== memberId) continue
        if (room.conversationId === conversationId || !this.#access.check(c.principal, room.parsed)) c.ws.close(closeCode.revoked, 'access revoked')
      }
    }
  }

  onMessageChange(listener: (change: MessageChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Graceful: stops taking upgrades and client updates, lets pending commits finish (their acks
   * go out), then closes every socket with closeCode.restarting so clients reconnect to the next
   * process; sockets that do not finish the close handshake within `graceMs` are terminated.
   */
  async close(graceMs = 1000): Promise<void> {
    this.#closing = true
    clearInterval(this.#sweep)
    await Promise.all([...this.#rooms.values()].map((r) => r.lastCommit.catch(() => {})))
    await this.#store.close()
    await closeGracefully(this.#wss.clients, closeCode.restarting, 'server restarting', graceMs)
    this.#wss.close()
  }
}

const serverOrigin = (reason: string): Origin => ({ source: 'server', reason })

/** Runs once the room's pending commits are through (and their acks sent). */
const afterCommits = (conn: Connection, fn: () => void) => void conn.room.lastCommit.catch(() => {}).then(fn)

/**
 * A refusal answers its update after the acks of the updates before it: a client with several
 * updates in flight (the outbox) then knows which one each answer is for.
 */
const refuseInOrder = (conn: Connection, reason: RejectReason, detail: string) => afterCommits(conn, () => conn.sendReject(reason, detail))

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
