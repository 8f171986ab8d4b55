import { describe, expect, it } from 'vitest'
import { MARK_CLOSE, MARK_OPEN, snippetHtml, toFtsQuery } from './search-query.js'

describe('toFtsQuery', () => {
  it('quotes every word and prefix-matches the last', () => {
    expect(toFtsQuery('deploy friday')).toBe('"deploy" "friday"*')
    expect(toFtsQuery('  Café  ')).toBe('"Café"*')
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
