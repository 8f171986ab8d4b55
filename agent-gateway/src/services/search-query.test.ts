import { describe, expect, it } from 'vitest'
import { MARK_CLOSE, MARK_OPEN, endsWithLongPrefix, rankMatches, snippetHtml, snippetText, toFtsQuery, toTsQuery } from './search-query.js'

describe('toFtsQuery', () => {
  it('quotes every word and prefix-matches the last', () => {
    expect(toFtsQuery('deploy friday')).toBe('"deploy" "friday"*')
    expect(toFtsQuery('  Café  ')).toBe('"Café"*')
  })

  it('matches the last word as written with wholeWords, and says when it is a prefix past the indexed ones', () => {
    expect(toFtsQuery('deploy friday', { wholeWords: true })).toBe('"deploy" "friday"')
    expect(toTsQuery('x snake_ca', { wholeWords: true })).toBe("'x' & ('snake' <-> 'ca')")
    expect(['deploy frid', 'deploy fri', 'plan b', '!!'].map(endsWithLongPrefix)).toEqual([true, false, false, false])
  })

  it('turns FTS5 operators and punctuation into plain words', () => {
    expect(toFtsQuery('a AND (b OR c) NOT d')).toBe('"a" "AND" "b" "OR" "c" "NOT" "d"')
    expect(toFtsQuery('NEAR(x y, 2)')).toBe('"NEAR" "x" "y" "2"')
    expect(toFtsQuery('body:secret^')).toBe('"body" "secret"*')
    expect(toFtsQuery('"unterminated')).toBe('"unterminated"*')
  })

  it('returns null when nothing searchable is left', () => {
    for (const q of ['', '   ', '"', '*', '()', '"*"', '-', '^:']) expect(toFtsQuery(q)).toBeNull()
  })

  it('does not prefix-match a one-letter last word (it would match most of the index)', () => {
    expect(toFtsQuery('plan b')).toBe('"plan" "b"')
  })

  it('caps the number of terms', () => {
    expect(toFtsQuery(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '))!.split(' ')).toHaveLength(12)
  })
})

describe('toTsQuery', () => {
  it('quotes every word as a lexeme, ANDs them and prefix-matches the last', () => {
    expect(toTsQuery('deploy friday')).toBe("'deploy' & 'friday':*")
    expect(toTsQuery('plan b')).toBe("'plan' & 'b'")
    expect(toTsQuery('snake_case name')).toBe("('snake' <-> 'case') & 'name':*")
    expect(toTsQuery('x snake_ca')).toBe("'x' & ('snake' <-> 'ca':*)")
  })

  it('turns tsquery operators and quotes into plain words', () => {
    expect(toTsQuery("a & !b | (c <-> d):* 'e' \\f")).toBe("'a' & 'b' & 'c' & 'd' & 'e' & 'f'")
    expect(toTsQuery("it's")).toBe("'it' & 's'")
  })

  it('returns null when nothing searchable is left', () => {
    for (const q of ['', '&|!()', ':*', "''", '_', '<->']) expect(toTsQuery(q)).toBeNull()
    expect(toTsQuery(`deploy ${'é'.repeat(1024)}`)).toBeNull() // longer than PostgreSQL indexes: matches nothing
    expect(toTsQuery('é'.repeat(1023))).toBe(`'${'é'.repeat(1023)}':*`)
  })
})

describe('snippetHtml', () => {
  it('escapes the text and marks the matches', () => {
    expect(snippetHtml(`<b>x</b> & ${MARK_OPEN}deploy${MARK_CLOSE} "now"`)).toBe('&lt;b&gt;x&lt;/b&gt; &amp; <mark>deploy</mark> &quot;now&quot;')
  })

  it('keeps marks balanced whatever the body contained', () => {
    expect(snippetHtml(`${MARK_OPEN}${MARK_OPEN}a`)).toBe('<mark>a</mark>')
    expect(snippetHtml(`a${MARK_CLOSE}b`)).toBe('ab')
    expect(snippetHtml('<mark>x</mark>')).toBe('&lt;mark&gt;x&lt;/mark&gt;')
  })
})

describe('rankMatches', () => {
  const rows = (...bodies: string[]) => bodies.map((body, i) => ({ rid: i + 1, body }))
  const order = (r: Array<{ rid: number }>) => r.map((x) => x.rid)

  it('puts more occurrences in a shorter body first, as BM25 does', () => {
    expect(order(rankMatches(rows('deploy the thing to staging today', 'deploy deploy', 'we deploy on friday after the review'), 'deploy'))).toEqual([2, 1, 3])
  })

  it('folds case and accents as the tokenizer does, and prefix-matches the last word', () => {
    expect(order(rankMatches(rows('a résumé', 'Resume RESUME résumés'), 'resume'))).toEqual([2, 1])
    expect(order(rankMatches(rows('plan', 'planning planned plans'), 'pla'))).toEqual([2, 1])
  })

  it('counts an ASCII body (split in one pass) as the same words with accents (matched word by word)', () => {
    expect(order(rankMatches(rows('café au lait, the_café', ' Cafe au lait: the_cafe!', 'cafe au lait and the_cafe'), 'cafe'))).toEqual([1, 2, 3])
    expect(order(rankMatches(rows(' Cafe au lait: the_cafe!', 'café au lait, the_café', 'cafe au lait and the_cafe'), 'cafe'))).toEqual([1, 2, 3])
  })

  it('keeps the given (newest-first) order on ties, and every row', () => {
    expect(order(rankMatches(rows('same words', 'same words', 'same words'), 'same'))).toEqual([1, 2, 3])
    expect(rankMatches([], 'x')).toEqual([])
  })
})

describe('snippetText', () => {
  const marked = (raw: string) => raw.replaceAll(MARK_OPEN, '[').replaceAll(MARK_CLOSE, ']')

  it('marks every matching word, folding case and accents, prefix-matching the last word', () => {
    expect(marked(snippetText('The Déploy went fine; deployment done.', 'deploy'))).toBe('The [Déploy] went fine; [deployment] done')
    expect(marked(snippetText('deploy now, deployment later', 'deploy friday'))).toBe('[deploy] now, deployment later')
  })

  it('shows the stretch with the most matches and marks the cuts', () => {
    const body = `${Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')} alpha beta alpha ${Array.from({ length: 30 }, (_, i) => `v${i}`).join(' ')}`
    const s = marked(snippetText(body, 'alpha', 6))
    expect(s.startsWith('…')).toBe(true)
    expect(s.endsWith('…')).toBe(true)
    expect(s.match(/\[alpha\]/g)).toHaveLength(2)
    expect(s.split(' ')).toHaveLength(6)
  })

  it('keeps a short body whole and an empty one empty', () => {
    expect(marked(snippetText('just alpha', 'alpha'))).toBe('just [alpha]')
    expect(snippetText('', 'alpha')).toBe('')
  })
})
