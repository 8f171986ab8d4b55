/**
 * Turns what a person types into a safe FTS5 query, and FTS5 snippets into safe HTML. Pure
 * functions, no database: the hazards here (FTS5 syntax injection, HTML injection through a
 * message body) are tested directly.
 */

/** More terms than this add nothing a person can see and cost a posting-list scan each. */
export const MAX_TERMS = 12
/** A prefix this short matches a large share of the index (`a*`); require two characters. */
const MIN_PREFIX = 2

/**
 * Words of the input (letters, digits, marks; the same notion of a word as FTS5's unicode61
 * tokenizer), each quoted as a phrase so FTS5 operators (AND, OR, NOT, NEAR, `*`, `^`, `:`,
 * parentheses, quotes) typed by a person are searched for as text, never interpreted. The last
 * word matches as a prefix, so results appear while typing. Terms are ANDed (FTS5's implicit
 * operator). Returns null when nothing searchable is left.
 */
export function toFtsQuery(input: string): string | null {
  const words = input.normalize('NFKC').match(/[\p{L}\p{N}\p{M}_]+/gu) ?? []
  const terms = words.slice(0, MAX_TERMS)
  if (terms.length === 0) return null
  return terms
    .map((t, i) => {
      const quoted = `"${t.replaceAll('"', '""')}"`
      return i === terms.length - 1 && [...t].length >= MIN_PREFIX ? `${quoted}*` : quoted
    })
    .join(' ')
}

/** Marks FTS5's snippet() puts around matches: control characters no tokenizer indexes. */
export const MARK_OPEN = '\u0002'
export const MARK_CLOSE = '\u0003'

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * HTML for a snippet: everything escaped, then our marks become `<mark>…</mark>`. Marks are kept
 * balanced even if a body itself contained the marker characters, so the only markup that can
 * come out is a well-formed `<mark>`.
 */
export function snippetHtml(raw: string): string {
  let out = ''
  let open = false
  for (const ch of raw) {
    if (ch === MARK_OPEN) {
      if (!open) out += '<mark>'
      open = true
    } else if (ch === MARK_CLOSE) {
      if (open) out += '</mark>'
      open = false
    } else {
      out += HTML_ESCAPES[ch] ?? ch
    }
  }
  return open ? `${out}</mark>` : out
}
