import type * as Y from 'yjs'
import { metaOf } from './messages.js'

/**
 * Conversations are chains of segments `conv:<id>:0`, `conv:<id>:1`, …; the highest is live and
 * takes new messages. Appending to one Y.Array slows from ~11.7k/s at 10k items to ~1.1k/s at
 * 60k and a 10k-message doc is ~2 MB, so a segment is sealed after SEGMENT_SIZE messages.
 */
export const DEFAULT_SEGMENT_SIZE = 1000

export interface SegmentMeta {
  conversationId: string
  segment: number
  sealed: boolean
}

export function readSegmentMeta(doc: Y.Doc): SegmentMeta | null {
  const meta = metaOf(doc)
  const conversationId = meta.get('conversationId')
  if (typeof conversationId !== 'string') return null
  return { conversationId, segment: Number(meta.get('segment') ?? 0), sealed: meta.get('sealed') === true }
}

export function initSegment(doc: Y.Doc, conversationId: string, segment: number, origin?: unknown) {
  doc.transact(() => {
    const meta = metaOf(doc)
    meta.set('conversationId', conversationId)
    meta.set('segment', segment)
    meta.set('sealed', false)
  }, origin)
}

export function sealSegment(doc: Y.Doc, origin?: unknown) {
  doc.transact(() => metaOf(doc).set('sealed', true), origin)
}
