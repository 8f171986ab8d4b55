import { Hono, type Context } from 'hono'
import { Readable } from 'node:stream'
import { z } from 'zod'
import { FILE_KINDS } from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import { listFiles, readableFile, receiveUpload } from '../services/files.js'
import { isActiveContent } from '../services/file-content.js'

const listQuery = z.object({
  conversationId: z.string().min(1).max(64).optional(),
  kind: z.enum(FILE_KINDS).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100)
})

/** Mounted at /api: uploads and the Files page's list. */
export function fileRoutes(gw: Gateway) {
  return new Hono()
    .use('/uploads', requireAuth())
    .use('/files', requireAuth())
    .post('/uploads', async (c) => c.json(await receiveUpload(gw, authOf(c), c.req.raw), 201))
    .get('/files', validate('query', listQuery), (c) => c.json({ files: listFiles(gw, authOf(c), c.req.valid('query')) }))
}

/**
 * Mounted at /files: the bytes, for a session cookie or a bot token, after the same access check
 * as everything else (services/files.ts readableFile).
 */
export function fileServeRoutes(gw: Gateway) {
  // Per path, not `*`: the web app may have a page at /files itself.
  return new Hono()
    .use('/:key', requireAuth())
    .use('/:key/thumb', requireAuth())
    .get('/:key', async (c) => {
      const f = readableFile(gw, authOf(c), c.req.param('key'))
      return serveBlob(gw, c, { sha256: f.sha256, size: f.size, contentType: f.contentType, name: f.name })
    })
    .get('/:key/thumb', async (c) => {
      const f = readableFile(gw, authOf(c), c.req.param('key'))
      const head = f.thumbSha256 ? await gw.blobs.head(f.thumbSha256) : null
      if (!f.thumbSha256 || !head) return c.json({ error: 'not_found', message: 'This file has no thumbnail.' }, 404)
      return serveBlob(gw, c, { sha256: f.thumbSha256, size: head.size, contentType: 'image/webp', name: `${f.name}.webp` })
    })
}

/**
 * Files run nowhere: a sandbox CSP (no scripts, a unique origin) on every response, framable only
 * by our own pages (the in-app viewer). SVG, HTML and XML are downloads unless the viewer asks
 * with `?view=1`; the sandbox still holds then, even if the URL is opened directly.
 */
export const FILE_CSP = "sandbox; frame-ancestors 'self'"

function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; several ranges or nonsense: null (serve it whole). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!m || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    const n = Number(m[2])
    if (n === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}

async function serveBlob(gw: Gateway, c: Context, b: { sha256: string; size: number; contentType: string; name: string }) {
  const etag = `"${b.sha256}"`
  const view = c.req.query('view') === '1'
  const headers: Record<string, string> = {
    ETag: etag,
    // Access is re-checked on every request (membership may end); revalidating is one 304.
    'Cache-Control': 'private, no-cache',
    'Accept-Ranges': 'bytes',
    'Content-Security-Policy': FILE_CSP,
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Content-Type': b.contentType.startsWith('text/') ? `${b.contentType}; charset=utf-8` : b.contentType,
    'Content-Disposition': contentDisposition(isActiveContent(b.contentType) && !view ? 'attachment' : 'inline', b.name)
  }
  const inm = c.req.header('if-none-match')
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return new Response(null, { status: 304, headers })
  const range = b.size > 0 ? parseRange(c.req.header('range'), b.size) : null
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { ...headers, 'Content-Range': `bytes */${b.size}` } })
  }
  const stream = await gw.blobs.get(b.sha256, range ?? undefined)
  if (!stream) return c.json({ error: 'not_found', message: 'The file is missing from storage.' }, 404)
  const body = Readable.toWeb(stream) as ReadableStream
  if (range) {
    return new Response(body, {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${b.size}`, 'Content-Length': String(range.end - range.start + 1) }
    })
  }
  return new Response(body, { status: 200, headers: { ...headers, 'Content-Length': String(b.size) } })
}
