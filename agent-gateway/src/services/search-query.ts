/**
 * Turns what a person types into a safe FTS5 query, and FTS5 snippets into safe HTML. Pure
 * functions, no database: the hazards here (FTS5 syntax injection, HTML injection through a
 * message body) are tested directly.
 */

/** More terms than this add nothing a person can see and cost a posting-list scan each. */
export const MAX_TERMS = 12
/** A prefix this short matches a large share of the index (`a*`); require two characters. */
const MIN_PREFIX = 2
/** The longest word PostgreSQL indexes (its parser's MAXSTRLEN). */
const MAX_LEXEME_BYTES = 2047

/**
 * Words of the input (letters, digits, marks; the same notion of a word as FTS5's unicode61
 * tokenizer), each quoted as a phrase so FTS5 operators (AND, OR, NOT, NEAR, `*`, `^`, `:`,
 * parentheses, quotes) typed by a person are searched for as text, never interpreted. The last
 * word matches as a prefix, so results appear while typing. Terms are ANDed (FTS5's implicit
 * operator). Returns null when nothing searchable is left.
 */
export function toFtsQuery(input: string, opts: WordOptions = {}): string | null {
  const terms = queryWords(input)
  if (terms.length === 0) return null
  return terms
    .map((t, i) => {
      const quoted = `"${t.replaceAll('"', '""')}"`
      return isPrefix(terms, i) && !opts.wholeWords ? `${quoted}*` : quoted
    })
    .join(' ')
}

/**
 * The same words as a PostgreSQL tsquery (search-store-pg.ts), ANDed, the last a prefix (`:*`).
 * Each word is a quoted lexeme, so tsquery operators typed by a person (`& | ! <-> : * ( )`) never
 * reach the parser as syntax; the words hold only letters, digits, marks and `_`, so no quote or
 * backslash can end the quoting. A word with `_` is a phrase of its parts (`<->`), as FTS5 reads
 * `"a_b"`: both tokenizers split at `_`. Null when nothing searchable is left.
 */
export function toTsQuery(input: string, opts: WordOptions = {}): string | null {
  const terms = queryWords(input)
  const split = terms.map((t) => t.split('_').filter(Boolean))
  // PostgreSQL leaves longer words out of the index and out of a query alike: dropped from the
  // query it would match more, not nothing, as such a word must.
  if (split.some((lexemes) => lexemes.some((l) => Buffer.byteLength(l) > MAX_LEXEME_BYTES))) return null
  const parts = split
    .map((lexemes, i) => lexemes.map((l, j) => `'${l}'${isPrefix(terms, i) && !opts.wholeWords && j === lexemes.length - 1 ? ':*' : ''}`))
    .filter((lexemes) => lexemes.length > 0)
    .map((lexemes) => (lexemes.length > 1 ? `(${lexemes.join(' <-> ')})` : lexemes[0]!))
  return parts.length > 0 ? parts.join(' & ') : null
}

/** `wholeWords`: the last word too matches only as written, not as a prefix (search.ts, recentMatches). */
export interface WordOptions { wholeWords?: boolean }

/** The prefix lengths FTS5 indexes (`prefix='2 3'`, migration 0003): those it walks like a word. */
const INDEXED_PREFIX = 3

/**
 * Whether the query's last word is matched as a prefix longer than the indexed ones: FTS5 then
 * gathers the postings of every word it begins (recentMatches tries the word as typed first).
 */
export function endsWithLongPrefix(input: string): boolean {
  const terms = queryWords(input)
  return terms.length > 0 && isPrefix(terms, terms.length - 1) && [...terms.at(-1)!].length > INDEXED_PREFIX
}

const queryWords = (input: string) => (input.normalize('NFKC').match(/[\p{L}\p{N}\p{M}_]+/gu) ?? []).slice(0, MAX_TERMS)
const isPrefix = (terms: readonly string[], i: number) => i === terms.length - 1 && [...terms[i]!].length >= MIN_PREFIX

/** A word as FTS5's unicode61 tokenizer (remove_diacritics 2) indexes it: case and accents folded. */
const fold = (word: string) => word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()

interface Token {
  /** Index of the query term it matches, or -1. */
  term: number
  start: number
  end: number
}

const WORD = /[\p{L}\p{N}\p{M}_]+/gu
/** What separates words in a body that is all ASCII: there the Unicode classes are [A-Za-z0-9_]. */
const ASCII_GAP = /[^A-Za-z0-9_]+/
// eslint-disable-next-line no-control-regex
const isAscii = (body: string) => /^[\x00-\x7f]*$/.test(body)

/** The query term a folded word matches (equal, or starting with the last term when it is a prefix), or -1. */
function termIndexer(terms: readonly string[]): (word: string) => number {
  const prefix = terms.map((_, i) => isPrefix(terms, i))
  return (word) => {
    for (let i = 0; i < terms.length; i++) if (word === terms[i] || (prefix[i] && word.startsWith(terms[i]!))) return i
    return -1
  }
}

/** Distinct words one matcher remembers; past it words are folded again (still right, slower). */
const MATCHER_WORDS = 10_000

/** The query term a word as written matches, or -1; each distinct word is folded (NFKD) once. */
function termMatcher(termOf: (word: string) => number): (raw: string) => number {
  const memo = new Map<string, number>()
  return (raw) => {
    let term = memo.get(raw)
    if (term === undefined) {
      term = termOf(fold(raw))
      if (memo.size < MATCHER_WORDS) memo.set(raw, term)
    }
    return term
  }
}

/**
 * Adds a body's matches per term to `tf` and returns its length in words, as tokenize would
 * count them. An ASCII body is lowercased once and split: for ASCII, folding is lowercasing, and
 * this path (most bodies) costs a quarter of matching and folding word by word.
 */
function countTerms(body: string, termOf: (word: string) => number, rawTermOf: (raw: string) => number, tf: number[]): number {
  let length = 0
  if (isAscii(body)) {
    for (const word of body.toLowerCase().split(ASCII_GAP)) {
      if (word === '') continue
      length++
      const term = termOf(word)
      if (term >= 0) tf[term]!++
    }
    return length
  }
  for (const [raw] of body.matchAll(WORD)) {
    length++
    const term = rawTermOf(raw)
    if (term >= 0) tf[term]!++
  }
  return length
}

/** The words of a body with their offsets, each marked with the query term it matches. */
function tokenize(body: string, termOf: (raw: string) => number): Token[] {
  const out: Token[] = []
  for (const m of body.matchAll(WORD)) out.push({ term: termOf(m[0]), start: m.index, end: m.index + m[0].length })
  return out
}

/** BM25's usual constants, as FTS5's bm25() uses them. */
const K1 = 1.2
const B = 0.75

/**
 * Orders matches by BM25 with the statistics of the matches themselves (their count, average
 * length and how many contain each term), best first; ties keep the given order (newest first). FTS5's bm25() takes
 * document frequencies from the whole index, and finding them walks every posting of every term:
 * for a word in most messages that alone cost tens of milliseconds per query. The matches here
 * are the newest window the caller can read, so this is BM25 over that window. Which rows match
 * is still FTS5's decision; this only orders them.
 */
export function rankMatches<T extends { body: string }>(rows: readonly T[], input: string): T[] {
  const terms = queryWords(input).map(fold)
  if (rows.length === 0 || terms.length === 0) return [...rows]
  const termOf = termIndexer(terms)
  const rawTermOf = termMatcher(termOf)
  const counts = rows.map((row) => {
    const tf = terms.map(() => 0)
    return { row, length: countTerms(row.body, termOf, rawTermOf, tf), tf }
  })
  const avgLength = counts.reduce((n, c) => n + c.length, 0) / counts.length || 1
  const idf = terms.map((_, i) => {
    const df = counts.filter((c) => c.tf[i]! > 0).length
    return Math.log(1 + (counts.length - df + 0.5) / (df + 0.5))
  })
  const score = (c: (typeof counts)[number]) =>
    c.tf.reduce((sum, f, i) => sum + (idf[i]! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * c.length) / avgLength)), 0)
  return counts
    .map((c) => ({ row: c.row, score: score(c) }))
    .sort((a, b) => b.score - a.score) // stable: equal scores stay newest first
    .map((s) => s.row)
}

/**
 * The part of a body around its matches, as FTS5's snippet() would give it: at most `words`
 * words, the stretch with the most matches (the earliest on ties), `…` where text was cut, each
 * matching word between MARK_OPEN and MARK_CLOSE (snippetHtml turns that into safe HTML). Made
 * from the body already read: FTS5's snippet() re-runs the MATCH for every row, which for a
 * prefix of a common word costs milliseconds each.
 */
export function snippetText(body: string, input: string, words = 16): string {
  const tokens = tokenize(body, termMatcher(termIndexer(queryWords(input).map(fold))))
  if (tokens.length === 0) return ''
  let best = 0
  let bestHits = -1
  for (let from = 0; from <= Math.max(0, tokens.length - words); from++) {
    const hits = tokens.slice(from, from + words).filter((t) => t.term >= 0).length
    if (hits > bestHits) [best, bestHits] = [from, hits]
  }
  const shown = tokens.slice(best, best + words)
  let out = best > 0 ? '…' : ''
  let at = shown[0]!.start
  for (const t of shown) {
    out += body.slice(at, t.start) + (t.term >= 0 ? MARK_OPEN + body.slice(t.start, t.end) + MARK_CLOSE : body.slice(t.start, t.end))
    at = t.end
  }
  return best + words < tokens.length ? `${out}…` : out
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
