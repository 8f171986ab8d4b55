/**
 * Ids are `<prefix>_` + 16 random base32 chars (80 bits): unguessable, URL-safe, and the prefix
 * says what an id names. Uses Web Crypto so the same code runs in the browser, Node and agents.
 */
export const idPrefix = {
  workspace: 'w',
  user: 'u',
  member: 'm',
  agent: 'a',
  conversation: 'c',
  message: 'msg',
  task: 'task',
  taskComment: 'tcom',
  link: 'lnk',
  approval: 'ap',
  run: 'run',
  file: 'f'
} as const
export type IdKind = keyof typeof idPrefix

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * Random bytes drawn in blocks, each used once: one getRandomValues call per 256 ids rather
 * than per id (the call, not the bytes, was the cost on the server's post path).
 */
const pool = new Uint8Array(4096)
let drawn = pool.length

export function randomToken(length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    if (drawn === pool.length) {
      globalThis.crypto.getRandomValues(pool)
      drawn = 0
    }
    out += alphabet[pool[drawn++]! & 31]
  }
  return out
}

export function newId(kind: IdKind): string {
  return `${idPrefix[kind]}_${randomToken(16)}`
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === 'string' && new RegExp(`^${idPrefix[kind]}_[a-z2-7]{16}$`).test(value)
}
