// Message bodies for the search benches: pronounceable words, ranked, their frequencies following
// Zipf (s = 1.07) as word use does, from a deterministic PRNG (mulberry32) so runs compare.
export const VOCAB = 20_000

let seed = 42
export const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'dor', 'fen', 'gal', 'hub', 'jin', 'mar', 'tos', 'wex', 'yul',
  'bri', 'cha', 'dru', 'elo', 'fi', 'gro', 'ha', 'ix', 'jo', 'kle', 'lun', 'mo', 'nix', 'or', 'pru', 'rha', 'sku', 'tri', 'ul', 'vey'] // 40² + 40³ words possible
const words = new Set<string>()
while (words.size < VOCAB) words.add(Array.from({ length: 2 + Math.floor(rand() * 2) }, () => syllables[Math.floor(rand() * syllables.length)]).join(''))
/** The words, most used first. */
export const vocab = [...words]
const cdf: number[] = []
let acc = 0
for (let r = 1; r <= VOCAB; r++) cdf.push((acc += 1 / r ** 1.07))

/** A word drawn by its frequency. */
export const word = () => {
  const x = rand() * acc
  let lo = 0, hi = VOCAB - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cdf[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return vocab[lo]!
}

/** A word of rank `from` to `to` (exclusive), uniformly. */
export const pick = (from: number, to: number) => vocab[from + Math.floor(rand() * (to - from))]!
