import { Readable } from 'node:stream'
import busboy from 'busboy'
import { and, eq, sql } from 'drizzle-orm'
import { files, type Db } from '@circlechat/db'
import { z } from 'zod'
import { MAX_ATTACHMENTS, fileKind, isId, newId, type Attachment, type FileKind, type VoiceInfo } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { ApiError, badRequest, notFound } from '../errors.js'
import { BlobTooLarge, type StagedBlob } from '../files/index.js'
import type { Actor } from './conversations.js'
import { imageInfo, isPreviewableImage, sanitiseFileName, sniffContentType } from './file-content.js'
import { parseVoiceField, voiceContentType } from './voice.js'
import { workspaceBoardOf } from './guests.js'

export type FileRow = typeof files.$inferSelect

/** What an upload answers, and what a message's attachment is built from (docs/api.md). */
export interface FileJson {
  key: string
  name: string
  contentType: string
  size: number
  url: string
  width?: number
  height?: number
  /** A voice message's length and waveform bars (services/voice.ts). */
  voice?: VoiceInfo
}

export const fileUrl = (key: string) => `/files/${key}`

/** An attachment as an agent gets it: a voice message says so, with its length (docs/agents.md). */
export type AgentAttachment = Omit<Attachment, 'voice'> & { kind?: 'voice'; durationMs?: number }

/**
 * Attachments as agents get them (packets, the agent REST API): each `url` absolute on the public
 * base URL, since an agent runs elsewhere; its bot token fetches it (GET /files/<key>). A voice
 * message is `kind: 'voice'` with `durationMs`; its waveform bars are for drawing and stay out.
 */
export const withAbsoluteUrls = (baseUrl: string, list: Attachment[]): AgentAttachment[] =>
  list.map(({ voice, ...a }) => ({ ...a, url: `${baseUrl}${fileUrl(a.key)}`, ...(voice ? { kind: 'voice' as const, durationMs: voice.durationMs } : {}) }))

export function fileJson(f: FileRow): FileJson {
  return {
    key: f.key, name: f.name, contentType: f.contentType, size: f.size, url: fileUrl(f.key),
    ...(f.width !== null && f.height !== null ? { width: f.width, height: f.height } : {}),
    ...(f.voice ? { voice: f.voice } : {})
  }
}

/** Multipart framing around the one file part: boundaries, part headers, a long file name. */
const MULTIPART_OVERHEAD = 16 * 1024
const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`
const tooLarge = (max: number) => new ApiError(413, 'too_large', `Files are limited to ${mb(max)} (MAX_UPLOAD_MB); nothing was stored.`)
const overQuota = (quota: number) =>
  new ApiError(413, 'quota_exceeded', `You have used your upload allowance of ${mb(quota)} (UPLOAD_QUOTA_MB); nothing was stored. Ask an admin for more room.`)

/** Bytes a member's uploads take, as counted against their quota. */
const usedBytes = (gw: Gateway, memberId: string) =>
  gw.db.select({ n: sql<number>`coalesce(sum(${files.size}), 0)` }).from(files).where(eq(files.owner, memberId)).get()!.n

/** Who a stored file is recorded for: the uploader, or the agent the server fetched it for. */
export interface FileOwner {
  memberId: string
  workspaceId: string
}

/** The upload limit and what is left of the owner's quota, for a new file. */
function limitsFor(gw: Gateway, memberId: string) {
  const max = gw.config.maxUploadBytes ?? 25 * 1024 * 1024
  const quota = gw.config.uploadQuotaBytes ?? Number.POSITIVE_INFINITY
  return { max, quota, used: usedBytes(gw, memberId) }
}

/** Streams `body` into staging, cut off at the size limit or the owner's remaining quota. */
function stageWithin(gw: Gateway, limits: ReturnType<typeof limitsFor>, body: Readable): Promise<StagedBlob> {
  const { max, quota, used } = limits
  if (used >= quota) return Promise.reject(overQuota(quota))
  return gw.blobs.stage(body, { maxBytes: Math.min(max, quota - used) }).catch((err: unknown) => {
    throw err instanceof BlobTooLarge ? (err.maxBytes < max ? overQuota(quota) : tooLarge(max)) : err
  })
}

/**
 * One multipart/form-data upload (a single file part, any field name), streamed from the socket
 * into the blob store: never held whole in memory. Refused before a byte of the body is read
 * when Content-Length already says it is too large or over the caller's quota; otherwise cut off
 * as soon as the stream passes the limit. `owner` is the member the file is recorded for.
 */
export async function receiveUpload(gw: Gateway, auth: Actor, req: Request): Promise<FileJson> {
  const limits = limitsFor(gw, auth.member.id)
  const { max, quota, used } = limits
  const type = req.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data;/i.test(type)) throw badRequest('invalid_input', 'Send the file as multipart/form-data with one file part.')
  const declared = Number(req.headers.get('content-length') ?? NaN)
  if (declared > max + MULTIPART_OVERHEAD) throw tooLarge(max)
  if (used >= quota || (Number.isFinite(declared) && used + declared - MULTIPART_OVERHEAD > quota)) throw overQuota(quota)
  if (!req.body) throw badRequest('invalid_input', 'The request has no body.')

  // Form fields other than the file: only `voice` means anything (a voice message's waveform).
  const fields = new Map<string, { value: string; truncated: boolean }>()
  const stored = await new Promise<(StagedBlob & { name: string }) | null>((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      parser = busboy({ headers: { 'content-type': type }, defParamCharset: 'utf8', limits: { files: 1, fields: 8, fieldSize: 1024, parts: 10, fileSize: max + 1, headerPairs: 20 } })
    } catch {
      return reject(badRequest('invalid_input', 'The multipart body has no boundary.'))
    }
    let staging: Promise<(StagedBlob & { name: string }) | null> | null = null
    parser.on('field', (field, value, info) => {
      if (!fields.has(field)) fields.set(field, { value, truncated: info.valueTruncated })
    })
    parser.on('file', (_field, stream, info) => {
      const name = sanitiseFileName(info.filename)
      staging = stageWithin(gw, limits, stream).then(
        (staged) => Object.assign(staged, { name }),
        (err: unknown) => {
          stream.resume() // drain what is left, so the parser can finish
          reject(err)
          return null
        }
      )
    })
    parser.on('error', () => reject(badRequest('invalid_input', 'The multipart body is malformed.')))
    // After the last part, so a field sent after the file is read too.
    parser.on('close', () => {
      if (!staging) resolve(null)
      else void staging.then((staged) => staged && resolve(staged))
    })
    const body = Readable.fromWeb(req.body as import('node:stream/web').ReadableStream<Uint8Array>)
    body.on('error', (err) => reject(err))
    body.pipe(parser)
  })
  if (!stored) throw badRequest('no_file', 'The form has no file part.')
  let voice: VoiceInfo | null
  try {
    voice = parseVoiceField(fields.get('voice')?.value, fields.get('voice')?.truncated ?? false)
  } catch (err) {
    await stored.discard()
    throw err
  }
  return recordFile(gw, { memberId: auth.member.id, workspaceId: auth.workspace.id }, stored, stored.name, voice)
}

/**
 * A file the server made for an owner from any stream (an agent's share_files), under the same
 * size limit and quota as an upload; `name` is sanitised here.
 */
export async function storeFile(gw: Gateway, owner: FileOwner, body: Readable, name: string): Promise<FileJson> {
  const staged = await stageWithin(gw, limitsFor(gw, owner.memberId), body)
  return recordFile(gw, owner, staged, sanitiseFileName(name))
}

/** Sniffs the staged bytes' type, publishes blob and record, and makes an image's thumbnail. */
async function recordFile(gw: Gateway, owner: FileOwner, stored: StagedBlob, name: string, voice: VoiceInfo | null = null): Promise<FileJson> {
  const contentType = await sniffContentType(stored.head, name).then((t) => (voice ? voiceContentType(t) : t)).catch(async (err: unknown) => {
    await stored.discard()
    throw err
  })
  const row: FileRow = {
    key: newId('file'), workspaceId: owner.workspaceId, owner: owner.memberId, sha256: stored.sha256, name,
    contentType, size: stored.size, width: null, height: null, thumbSha256: null, voice, createdAt: Date.now()
  }
  await publish(gw, stored, () => gw.db.insert(files).values(row).run())
  if (isPreviewableImage(contentType)) {
    const source = await gw.blobs.get(stored.sha256)
    const info = source ? await imageInfo(source) : null
    if (info) {
      const thumb = await gw.blobs.stage(Readable.from([info.thumb]))
      Object.assign(row, { width: info.width, height: info.height, thumbSha256: thumb.sha256 })
      await publish(gw, thumb, () => gw.db.update(files).set({ width: info.width, height: info.height, thumbSha256: thumb.sha256 }).where(eq(files.key, row.key)).run())
    }
  }
  return fileJson(row)
}

/** Commits a staged blob and writes the record naming it as one step against the collector. */
async function publish(gw: Gateway, staged: StagedBlob, record: () => void): Promise<void> {
  try {
    await gw.blobLock.run(async () => {
      await staged.commit()
      record()
    })
  } catch (err) {
    await staged.discard()
    throw err
  }
}

/** Uploads never attached for this long are collected (a draft may hold a key for days). */
export const UNATTACHED_GRACE_MS = 7 * 24 * 60 * 60_000
/** Records one collector pass removes at most; the next pass takes the rest. */
const COLLECT_BATCH = 500

/**
 * The collector: drops upload records nobody can reach any more (never attached within the grace
 * period, or every message attaching them deleted), then each blob no remaining record names.
 */
export async function collectFiles(gw: Gateway, now = Date.now()): Promise<{ files: number; blobs: number }> {
  const q = statements(gw.db)
  const rows = q.collectable.all({ cutoff: now - UNATTACHED_GRACE_MS, limit: COLLECT_BATCH }) as Array<{ key: string; sha256: string; thumbSha256: string | null }>
  if (rows.length === 0) return { files: 0, blobs: 0 }
  gw.db.$client.transaction(() => {
    for (const r of rows) {
      q.dropRefs.run(r.key)
      q.dropFile.run(r.key)
    }
  })()
  let blobs = 0
  for (const sha of new Set(rows.flatMap((r) => (r.thumbSha256 ? [r.sha256, r.thumbSha256] : [r.sha256])))) {
    await gw.blobLock.run(async () => {
      if (q.blobNamed.get(sha, sha)) return
      await gw.blobs.delete(sha)
      blobs++
    })
  }
  return { files: rows.length, blobs }
}

/** Rows read per request before the kind filter (which SQL cannot see): bounds the work. */
const LIST_SCAN = 1000

/** Compiled once per database (as in request-queries.ts): every file request runs one of them. */
function build(db: Db) {
  return {
    readable: db.$client.prepare(`
      SELECT f.key, f.workspace_id AS workspaceId, f.owner, f.sha256, f.name, f.content_type AS contentType, f.size, f.width, f.height,
        f.thumb_sha256 AS thumbSha256, f.created_at AS createdAt
      FROM files f
      WHERE f.key = @key AND f.workspace_id = @ws AND (
        (f.owner = @me AND NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.file_key = f.key))
        OR EXISTS (SELECT 1 FROM file_refs r WHERE r.file_key = f.key AND r.deleted = 0
          AND (r.scope = @board OR r.ref = 'icon:' || @ws OR r.scope IN (SELECT conversation_id FROM conversation_members WHERE member_id = @me))))`),
    list: db.$client.prepare(`
      SELECT f.key, f.owner, f.name, f.content_type AS contentType, f.size, f.width, f.height, f.thumb_sha256 AS thumbSha256,
        r.ref, r.scope, r.task_id AS taskId, r.created_at AS attachedAt
      FROM file_refs r JOIN files f ON f.key = r.file_key
      WHERE r.deleted = 0 AND f.workspace_id = @ws
        AND r.scope IN (SELECT conversation_id FROM conversation_members WHERE member_id = @me)
        AND (@conv IS NULL OR r.scope = @conv)
        AND (@q IS NULL OR f.name LIKE @q ESCAPE '\\')
      ORDER BY r.created_at DESC LIMIT ${LIST_SCAN}`),
    collectable: db.$client.prepare(`
      SELECT key, sha256, thumb_sha256 AS thumbSha256 FROM files f
      WHERE NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.file_key = f.key AND r.deleted = 0)
        AND (f.created_at < @cutoff OR EXISTS (SELECT 1 FROM file_refs r WHERE r.file_key = f.key))
      LIMIT @limit`),
    dropRefs: db.$client.prepare('DELETE FROM file_refs WHERE file_key = ?'),
    dropFile: db.$client.prepare('DELETE FROM files WHERE key = ?'),
    blobNamed: db.$client.prepare('SELECT 1 FROM files WHERE sha256 = ? OR thumb_sha256 = ? LIMIT 1').pluck()
  }
}
const cache = new WeakMap<Db, ReturnType<typeof build>>()
function statements(db: Db) {
  let q = cache.get(db)
  if (!q) cache.set(db, (q = build(db)))
  return q
}

/**
 * The file if the caller may read it: its uploader until it is first attached; after that, members
 * of a conversation (or the workspace, for the workspace board) where a live message, reply or
 * comment attaches it (a guest: not the workspace board's), or anyone of the workspace for its
 * icon (ref `icon:<workspace>`). A deleted message no longer counts. Anything else is the same 404 as a
 * missing key, so a key's existence never leaks.
 */
export function readableFile(gw: Gateway, auth: Actor, key: string): FileRow {
  const row = statements(gw.db).readable.get({ key, ws: auth.workspace.id, board: workspaceBoardOf(auth), me: auth.member.id }) as FileRow | undefined
  if (!row) throw notFound('file_not_found', 'No such file, or you cannot see it.')
  return row
}

export interface ListedFile extends FileJson {
  kind: FileKind
  thumbUrl: string | null
  memberId: string
  conversationId: string
  /** The message or thread reply attaching it; null when a task comment does. */
  messageId: string | null
  /** The task comment attaching it, and its task; null for a message. */
  taskId: string | null
  commentId: string | null
  createdAt: number
}

/** Files attached in the caller's conversations, newest attachment first; one entry per file. */
export function listFiles(gw: Gateway, auth: Actor, q: { conversationId?: string; kind?: FileKind; q?: string; limit: number }): ListedFile[] {
  const rows = statements(gw.db).list.all({ ws: auth.workspace.id, me: auth.member.id, conv: q.conversationId ?? null, q: q.q ? `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null }) as Array<
      Omit<FileRow, 'workspaceId' | 'sha256' | 'createdAt'> & { ref: string; scope: string; taskId: string | null; attachedAt: number }>
  const out: ListedFile[] = []
  const seen = new Set<string>()
  for (const r of rows) {
    if (seen.has(r.key)) continue
    seen.add(r.key)
    const kind = fileKind(r.contentType, r.name)
    if (q.kind && kind !== q.kind) continue
    // A comment's ref is its id; refs written before the task was recorded are still comments.
    const comment = r.taskId !== null || isId('taskComment', r.ref)
    const { taskId, attachedAt, ...row } = r
    out.push({
      ...fileJson({ ...row, workspaceId: auth.workspace.id, sha256: '', createdAt: attachedAt }),
      kind, thumbUrl: r.thumbSha256 ? `${fileUrl(r.key)}/thumb` : null, memberId: r.owner, conversationId: r.scope,
      messageId: comment ? null : r.ref, taskId: comment ? taskId : null, commentId: comment ? r.ref : null, createdAt: attachedAt
    })
    if (out.length >= q.limit) break
  }
  return out
}

/** The seed's attachment input: `{key, name, contentType, size}` as an upload answered it. */
export const attachmentInputSchema = z.object({ key: z.string().min(1).max(64) }).passthrough()
export const attachmentsInputSchema = z.array(attachmentInputSchema).max(MAX_ATTACHMENTS, `At most ${MAX_ATTACHMENTS} attachments a message.`)
/** Only the key counts: everything else is taken from the upload record. */
export type AttachmentInput = { key: string }

/**
 * The attachments a member may put on a message: only files they uploaded themselves (or the
 * server uploaded for them), in this workspace. Name, type, size and URL are taken from the
 * record, not the input; an unknown or foreign key is refused, the same as the guard (OWN10).
 */
export function resolveAttachments(gw: Gateway, owner: { memberId: string; workspaceId: string }, input: AttachmentInput[] | undefined): Attachment[] {
  if (!input?.length) return []
  const out: Attachment[] = []
  for (const a of input) {
    const row = gw.db.select().from(files).where(and(eq(files.key, a.key), eq(files.owner, owner.memberId), eq(files.workspaceId, owner.workspaceId))).get()
    if (!row) throw badRequest('invalid_attachment', `Attachment ${JSON.stringify(a.key.slice(0, 40))} is not a file you uploaded: upload it first, then attach the key it answered.`)
    const { key, name, contentType, size, url, width, height, voice } = fileJson(row)
    out.push({ key, name, contentType, size, url, ...(width !== undefined ? { width, height } : {}), ...(voice ? { voice } : {}) })
  }
  return out
}
