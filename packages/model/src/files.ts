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
