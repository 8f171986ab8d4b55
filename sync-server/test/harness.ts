import { createServer, type Server } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { openDb, type Db } from '@circlechat/db'
import { docName, newId, type Attachment } from '@circlechat/model'
import { createSyncServer, type Principal, type SyncConfig, type SyncServer } from '../src/index.js'
import type { ClusterOptions } from '../src/cluster/cluster.js'

/**
 * A real relay on a loopback port over a real SQLite file. Authentication is the one injected
 * seam: here a token in the query string names a seeded member (the gateway uses cookies and
 * bot tokens through the same callback).
 */
export interface Harness {
  db: Db
  sync: SyncServer
  url: string
  dataFile: string
  workspaceId: string
  seedMember(role?: 'admin' | 'member' | 'guest'): Principal & { token: string }
  seedConversation(memberIds: string[]): string
  connect(docName: string, token: string, doc?: Y.Doc): WebsocketProvider
  close(): Promise<void>
}

export interface HarnessOptions {
  dataFile?: string
  segmentSize?: number
  config?: Partial<SyncConfig>
  cluster?: ClusterOptions
  /** A token that is a member's id authenticates as that member: for processes sharing one
   *  database, where the member was seeded by another. */
  memberIdTokens?: boolean
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataFile = opts.dataFile ?? join(mkdtempSync(join(tmpdir(), 'cc-sync-')), 'test.db')
  const db = openDb(dataFile)
  const tokens = new Map<string, Principal>()
  const member = db.$client.prepare('SELECT id AS memberId, workspace_id AS workspaceId, role, kind FROM members WHERE id = ?')
  const sync = createSyncServer({
    db,
    segmentSize: opts.segmentSize,
    cluster: opts.cluster,
    authenticate: async (req) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? ''
      return tokens.get(token) ?? (opts.memberIdTokens ? (member.get(token) as Principal | undefined) ?? null : null)
    }
  }, opts.config)
  const server: Server = createServer((_, res) => res.end('ok'))
  server.on('upgrade', (req, socket, head) => sync.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/sync`
  const sqlite = db.$client
  let workspaceId = (sqlite.prepare('SELECT id FROM workspaces LIMIT 1').pluck().get() as string | undefined) ?? ''
  if (!workspaceId) {
    workspaceId = newId('workspace')
    sqlite.prepare('INSERT INTO workspaces (id, name, handle, created_at) VALUES (?, ?, ?, ?)').run(workspaceId, 'Test', 'test', Date.now())
  }
  const providers: WebsocketProvider[] = []
  return {
    db, sync, url, dataFile, workspaceId,
    seedMember(role = 'member') {
      const id = newId('member')
      sqlite.prepare('INSERT INTO members (id, workspace_id, kind, name, handle, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, workspaceId, 'user', id, id.replace('_', '-'), role, Date.now())
      const principal: Principal = { memberId: id, workspaceId, role, kind: 'user' }
      const token = newId('user')
      tokens.set(token, principal)
      return { ...principal, token }
    },
    seedConversation(memberIds) {
      const id = newId('conversation')
      sqlite.prepare('INSERT INTO conversations (id, workspace_id, kind, name, is_private, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, workspaceId, 'channel', id, 0, memberIds[0], Date.now())
      for (const m of memberIds) sqlite.prepare('INSERT INTO conversation_members (conversation_id, member_id, joined_at) VALUES (?, ?, ?)').run(id, m, Date.now())
      return id
    },
    connect(docName, token, doc = new Y.Doc()) {
      const p = connectProvider(url, docName, token, doc)
      providers.push(p)
      return p
    },
    async close() {
      for (const p of providers) p.destroy()
      await sync.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      sqlite.close()
    }
  }
}

/** A y-websocket client of the relay at `url` (`ws://…/sync`), authenticated by `token`. */
export function connectProvider(url: string, docName: string, token: string, doc = new Y.Doc()): WebsocketProvider {
  const p = new WebsocketProvider(url, docName, doc, { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token } })
  p.messageHandlers[101] = () => {} // acks (watchRelay records them)
  return p
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const synced = (p: WebsocketProvider) => until(() => p.synced, 5000, 'sync')

/** Alice and Bob in one conversation, each with a synced client on its first segment. */
export async function pairInConversation(h: Harness) {
  const alice = h.seedMember()
  const bob = h.seedMember()
  const conv = h.seedConversation([alice.memberId, bob.memberId])
  const name = docName.conv(conv, 0)
  const a = h.connect(name, alice.token)
  const b = h.connect(name, bob.token)
  const relayA = watchRelay(a)
  const relayB = watchRelay(b)
  await Promise.all([synced(a), synced(b)])
  return { alice, bob, conv, name, a, b, relayA, relayB }
}

/** Records the relay's reject (100) and ack (101) messages on a provider. */
export function watchRelay(p: WebsocketProvider) {
  const seen = { rejects: [] as Array<{ reason: string; detail: string }>, acked: 0 }
  p.messageHandlers[100] = (_e, decoder) => {
    seen.rejects.push({ reason: decoding.readVarString(decoder), detail: decoding.readVarString(decoder) })
  }
  p.messageHandlers[101] = (_e, decoder) => {
    seen.acked = decoding.readVarUint(decoder)
  }
  return seen
}

/** A raw socket that sends hand-made frames, for forged and malformed input. */
export async function rawClient(url: string, docName: string, token: string) {
  const ws = new WebSocket(`${url}/${docName}?token=${token}`)
  const rejects: Array<{ reason: string; detail: string }> = []
  let closed: number | null = null
  let acked = 0
  let frames = 0
  ws.on('message', (data: Buffer) => {
    frames++
    const d = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(d)
    if (type === 100) rejects.push({ reason: decoding.readVarString(d), detail: decoding.readVarString(d) })
    else if (type === 101) acked = decoding.readVarUint(d)
  })
  ws.on('close', (code) => (closed = code))
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  return {
    rejects,
    get closed() { return closed },
    /** Updates acknowledged so far (the relay numbers its acks per connection). */
    get acked() { return acked },
    /** Frames received: the first is the relay's greeting, sent once the socket is admitted. */
    get frames() { return frames },
    sendUpdate(update: Uint8Array) {
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 0)
      encoding.writeVarUint(e, 2)
      encoding.writeVarUint8Array(e, update)
      ws.send(encoding.toUint8Array(e))
    },
    sendBytes(bytes: Uint8Array) { ws.send(bytes) },
    /** An awareness frame of (client id, clock, state) entries, as y-protocols encodes them. */
    sendAwareness(entries: Array<[number, number, unknown]>) {
      const inner = encoding.createEncoder()
      encoding.writeVarUint(inner, entries.length)
      for (const [id, clock, state] of entries) {
        encoding.writeVarUint(inner, id)
        encoding.writeVarUint(inner, clock)
        encoding.writeVarString(inner, JSON.stringify(state))
      }
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
      ws.send(encoding.toUint8Array(e))
    },
    close() { ws.close() }
  }
}

/** An upload record as agent-gateway's POST /api/uploads writes it; returns the attachment for it. */
export function seedFile(h: Harness, owner: string, name = 'notes.txt'): Attachment {
  const key = newId('file')
  h.db.$client.prepare(`INSERT INTO files (key, workspace_id, owner, sha256, name, content_type, size, created_at)
    VALUES (?, ?, ?, ?, ?, 'text/plain', 12, ?)`).run(key, h.workspaceId, owner, 'a'.repeat(64), name, Date.now())
  return { key, name, contentType: 'text/plain', size: 12, url: `/files/${key}` }
}

/** Where an upload is attached: `file_refs` rows of one key. */
export const refsOf = (h: Harness, key: string) => h.db.$client.prepare('SELECT ref, scope, deleted FROM file_refs WHERE file_key = ?').all(key)

/** Stored update rows of a doc: what survives a restart. */
export const storedUpdates = (h: Harness, name: string) => h.db.$client.prepare('SELECT count(*) FROM doc_updates WHERE doc = ?').pluck().get(name) as number

/** A doc that mirrors the server's copy (under a fresh client id), to craft an update against it. */
export async function mirrorDoc(h: Pick<Harness, 'sync'>, name: string) {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(await h.sync.getDoc(name)))
  return doc
}

/** The update `edit` makes to a mirror of `name`. */
export async function forgeUpdate(h: Pick<Harness, 'sync'>, name: string, edit: (doc: Y.Doc) => void) {
  const doc = await mirrorDoc(h, name)
  const before = Y.encodeStateVector(doc)
  edit(doc)
  return Y.encodeStateAsUpdate(doc, before)
}
