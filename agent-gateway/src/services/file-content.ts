import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const MAX_NAME_CHARS = 200

/**
 * A display name only — blobs are stored by hash, so a name never becomes a path — but it
 * lands in Content-Disposition and in other people's downloads: no directories, no control or
 * reserved characters, no leading dots, bounded length.
 */
export function sanitiseFileName(raw: string | undefined): string {
  const base = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? ''
  const clean = base
    .replace(/[\u0000-\u001f\u007f-\u009f<>:"|?*\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/^[.\s]+|[.\s]+$/g, '')
  if (!clean) return 'file'
  if (clean.length <= MAX_NAME_CHARS) return clean
  // Keep the extension: it is what the viewer and the chip key on.
  const ext = /\.[^.]{1,10}$/.exec(clean)?.[0] ?? ''
  return clean.slice(0, MAX_NAME_CHARS - ext.length) + ext
}

/** Types a browser would run or render as a document: never served inline (routes/files.ts). */
const ACTIVE = new Set(['text/html', 'application/xhtml+xml', 'image/svg+xml', 'application/xml', 'text/xml'])
export const isActiveContent = (contentType: string) => ACTIVE.has(contentType)

const TEXT_BY_EXTENSION: Record<string, string> = {
  md: 'text/markdown', markdown: 'text/markdown', csv: 'text/csv', tsv: 'text/tab-separated-values', json: 'application/json',
  html: 'text/html', htm: 'text/html', xhtml: 'application/xhtml+xml', svg: 'image/svg+xml', xml: 'application/xml'
}

/** UTF-8 (or ASCII) with no NUL: a truncated character at the end of the head is allowed. */
function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false
  for (let cut = 0; cut <= Math.min(3, head.length); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut))
      return true
    } catch {}
  }
  return false
}

/**
 * The content type from the bytes (file-type's signatures), never the client's word. Text has no
 * signature: markup that a browser would render is recognised by its start whatever the name
 * says, so an `.txt` holding HTML is still served as HTML (and so never inline).
 */
export async function sniffContentType(head: Buffer, name: string): Promise<string> {
  // file-type and sharp load on first use: together they cost ~200 ms of every start.
  const { fileTypeFromBuffer } = await import('file-type')
  const sniffed = await fileTypeFromBuffer(head)
  if (sniffed) return sniffed.mime === 'application/xml' && /<svg[\s>]/i.test(head.toString('utf8')) ? 'image/svg+xml' : sniffed.mime
  if (head.length === 0 || !looksLikeText(head)) return head.length === 0 ? 'text/plain' : 'application/octet-stream'
  const start = head.toString('utf8').replace(/^\uFEFF/, '').trimStart().slice(0, 1024).toLowerCase()
  if (/^<!doctype html|^<html[\s>]|^<head[\s>]|^<body[\s>]|^<script[\s>]/.test(start)) return 'text/html'
  if (start.startsWith('<svg') || (start.startsWith('<?xml') && start.includes('<svg'))) return 'image/svg+xml'
  if (start.startsWith('<?xml')) return 'application/xml'
  const ext = /\.([a-z0-9]{1,10})$/i.exec(name)?.[1]?.toLowerCase()
  return (ext && TEXT_BY_EXTENSION[ext]) || 'text/plain'
}

/** Raster images sharp reads and every browser shows. */
const IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif'])
export const isPreviewableImage = (contentType: string) => IMAGES.has(contentType)

/** Longest edge of a thumbnail: a message list preview at 2× density. */
const THUMB_EDGE = 480
/** 12 megapixels is a phone photo; 100 stops decompression bombs without refusing real images. */
const MAX_PIXELS = 100_000_000

export interface ImageInfo {
  width: number
  height: number
  /** WebP, EXIF orientation applied, metadata stripped (sharp drops it unless asked to keep it). */
  thumb: Buffer
}

/** Size (as displayed, after EXIF rotation) and a thumbnail; null if the bytes are not a readable image. */
export async function imageInfo(source: Readable): Promise<ImageInfo | null> {
  const { default: sharp } = await import('sharp')
  const input = sharp({ limitInputPixels: MAX_PIXELS, failOn: 'error', sequentialRead: true })
  const meta = input.clone().metadata()
  const thumb = input.clone().rotate().resize(THUMB_EDGE, THUMB_EDGE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer()
  try {
    const [m, t] = await Promise.all([meta, thumb, pipeline(source, input)])
    if (!m.width || !m.height) return null
    // Orientations 5–8 are quarter turns: the displayed image has width and height swapped.
    const turned = (m.orientation ?? 1) >= 5
    return { width: turned ? m.height : m.width, height: turned ? m.width : m.height, thumb: t }
  } catch {
    meta.catch(() => {})
    thumb.catch(() => {})
    return null
  }
}
