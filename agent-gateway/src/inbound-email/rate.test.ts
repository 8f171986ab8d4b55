import { describe, expect, it } from 'vitest'
import { KeyedRate } from './rate.js'

describe('KeyedRate', () => {
  it('allows a burst, then one token per interval', () => {
    const r = new KeyedRate(2, 1000)
    expect([r.take('a', 0), r.take('a', 0), r.take('a', 0)]).toEqual([true, true, false])
    expect(r.take('b', 0)).toBe(true) // another key has its own bucket
    expect(r.take('a', 999)).toBe(false)
    expect(r.take('a', 1000)).toBe(true)
  })

  it('stays within its key bound, evicting the least recently used key', () => {
    const r = new KeyedRate(1, 60_000, 3)
    for (const k of ['a', 'b', 'c']) r.take(k, 0)
    expect(r.take('a', 1)).toBe(false) // 'a' is now the most recent; 'b' the oldest
    r.take('d', 2)
    expect(r.size).toBe(3)
    expect(r.take('b', 3)).toBe(true) // 'b' was evicted: it starts full again
    expect(r.take('a', 4)).toBe(false) // 'a' kept its empty bucket
  })
})
