// Near-duplicate detection: a derailed agent tends to repeat itself with a word or two changed,
// so exact comparison misses it. 3-word shingles with Jaccard >= 0.85 catches those and
// still lets two messages that share a stock phrase through.

export const NEAR_DUPLICATE_THRESHOLD = 0.85
/** Under three words there is no shingle; "ok" and "thanks!" are normal to say twice. */
const MIN_WORDS = 3

export function shingles(text: string): Set<string> {
  const words = text.toLowerCase().normalize('NFKC').split(/[^\p{L}\p{N}]+/u).filter(Boolean)
  const out = new Set<string>()
  for (let i = 0; i + MIN_WORDS <= words.length; i++) out.add(words.slice(i, i + MIN_WORDS).join(' '))
  return out
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0
  let both = 0
  for (const s of a) if (b.has(s)) both++
  return both / (a.size + b.size - both)
}

/** The most similar recent body, if it is at or above the threshold. */
export function findNearDuplicate(body: string, recentBodies: readonly string[]): { similarity: number; index: number } | null {
  const mine = shingles(body)
  if (mine.size === 0) return null
  let best: { similarity: number; index: number } | null = null
  recentBodies.forEach((other, index) => {
    const similarity = jaccard(mine, shingles(other))
    if (similarity >= NEAR_DUPLICATE_THRESHOLD && (!best || similarity > best.similarity)) best = { similarity, index }
  })
  return best
}
