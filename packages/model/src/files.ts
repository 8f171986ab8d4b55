/**
 * What kind of file an attachment is, for its chip, its viewer and the Files page filter. Decided
 * from the sniffed content type first, then the name (text and office formats share few types).
 */
export const FILE_KINDS = ['image', 'video', 'audio', 'pdf', 'doc', 'sheet', 'slides', 'code', 'archive', 'text', 'other'] as const
export type FileKind = (typeof FILE_KINDS)[number]

const BY_EXTENSION: Record<string, FileKind> = {
  doc: 'doc', docx: 'doc', odt: 'doc', rtf: 'doc', pages: 'doc',
  xls: 'sheet', xlsx: 'sheet', ods: 'sheet', csv: 'sheet', tsv: 'sheet', numbers: 'sheet',
  ppt: 'slides', pptx: 'slides', odp: 'slides', key: 'slides',
  zip: 'archive', tar: 'archive', gz: 'archive', tgz: 'archive', bz2: 'archive', xz: 'archive', '7z': 'archive', rar: 'archive', zst: 'archive',
  md: 'text', markdown: 'text', txt: 'text', log: 'text',
  js: 'code', mjs: 'code', ts: 'code', tsx: 'code', jsx: 'code', py: 'code', rb: 'code', go: 'code', rs: 'code', java: 'code',
  kt: 'code', c: 'code', h: 'code', cpp: 'code', hpp: 'code', cs: 'code', php: 'code', sh: 'code', sql: 'code', swift: 'code',
  json: 'code', yaml: 'code', yml: 'code', toml: 'code', xml: 'code', html: 'code', htm: 'code', css: 'code', svelte: 'code', vue: 'code'
}

export function fileKind(contentType: string, name: string): FileKind {
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  if (type === 'application/pdf') return 'pdf'
  if (type === 'image/svg+xml') return 'code'
  const top = type.split('/')[0]
  if (top === 'image' || top === 'video' || top === 'audio') return top
  const ext = /\.([a-z0-9]{1,10})$/i.exec(name)?.[1]?.toLowerCase()
  const byName = ext ? BY_EXTENSION[ext] : undefined
  if (byName) return byName
  if (/zip|x-tar|gzip|x-7z|x-rar|x-bzip2|x-xz|zstd/.test(type)) return 'archive'
  if (top === 'text') return 'text'
  return 'other'
}

/**
 * A voice message's length and waveform, as the recording browser measured them: one peak per
 * bar, 0 (silence) to 100 (full scale). Bounded so a hostile client cannot make every reader draw
 * (or every packet carry) an arbitrarily large array; 48 to 128 bars covers a phone to a desktop.
 */
export interface VoiceInfo {
  durationMs: number
  peaks: number[]
}
export const MIN_VOICE_PEAKS = 16
export const MAX_VOICE_PEAKS = 128
/** Half an hour: longer is a recording, not a voice message. */
export const MAX_VOICE_MS = 30 * 60_000

/** Why a value is not a voice message's `{durationMs, peaks}`, or null. */
export function voiceProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'voice is {durationMs, peaks}'
  const o = v as Record<string, unknown>
  if (Object.keys(o).some((k) => k !== 'durationMs' && k !== 'peaks')) return 'voice has only durationMs and peaks'
  if (typeof o.durationMs !== 'number' || !Number.isInteger(o.durationMs) || o.durationMs < 1 || o.durationMs > MAX_VOICE_MS) {
    return `voice.durationMs is a whole number of milliseconds, 1 to ${MAX_VOICE_MS}`
  }
  const p = o.peaks
  if (!Array.isArray(p) || p.length < MIN_VOICE_PEAKS || p.length > MAX_VOICE_PEAKS) return `voice.peaks is a list of ${MIN_VOICE_PEAKS} to ${MAX_VOICE_PEAKS} bars`
  if (!p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 100)) return 'each of voice.peaks is a whole number from 0 to 100'
  return null
}

/** Same voice info (an attachment's copy against its upload record's). */
export const sameVoice = (a: VoiceInfo | null | undefined, b: VoiceInfo | null | undefined): boolean =>
  (!a && !b) || (!!a && !!b && a.durationMs === b.durationMs && a.peaks.length === b.peaks.length && a.peaks.every((x, i) => x === b.peaks[i]))
