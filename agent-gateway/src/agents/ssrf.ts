import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Callback URLs and share_files URLs are fetched by the server, so they must not reach loopback,
 * private, link-local or metadata addresses unless the admin opts in (AGENT_ALLOW_PRIVATE_URLS=1,
 * for agents on the same box). Checked at provisioning and again before each dispatch (DNS can
 * change); for share_files, on every redirect hop (share-files.ts).
 */
export async function checkCallbackUrl(raw: string, allowPrivate: boolean): Promise<{ ok: true; url: URL } | { ok: false; reason: string }> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, reason: 'not a URL' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http and https URLs are allowed' }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed; the bot token is sent as a header' }
  if (allowPrivate) return { ok: true, url }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)
  } catch {
    return { ok: false, reason: `cannot resolve ${host}` }
  }
  const bad = addresses.find(isPrivateAddress)
  if (bad) return { ok: false, reason: `${host} resolves to a private address (${bad}); set AGENT_ALLOW_PRIVATE_URLS=1 to allow local agents` }
  return { ok: true, url }
}

export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number]
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224
  }
  const v6 = address.toLowerCase()
  if (isIP(v6) !== 6) return true // not an address we understand: refuse
  // IPv6 forms that carry an IPv4 address in their low 32 bits are judged by it. URL parsing
  // rewrites [::ffff:127.0.0.1] to [::ffff:7f00:1], which a prefix test on the text missed, so
  // loopback and the metadata address were reachable that way.
  const h = hextets(v6)
  const zeros = (n: number) => h.slice(0, n).every((x) => x === 0)
  const embedded = `${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`
  if (zeros(5) && h[5] === 0xffff) return isPrivateAddress(embedded) // ::ffff:a.b.c.d (mapped)
  if (zeros(6)) return h[6] === 0 && h[7]! > 1 ? isPrivateAddress(embedded) : true // ::, ::1, ::a.b.c.d (compat)
  if (h[0] === 0x64 && h[1] === 0xff9b) return isPrivateAddress(embedded) // NAT64 64:ff9b::/96
  const first = h[0]!
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0 || (first & 0xff00) === 0xff00
}

/** The eight 16-bit groups of an IPv6 address (with :: expanded and a dotted IPv4 tail converted). */
function hextets(v6: string): number[] {
  let text = v6.split('%')[0]!
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === null ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return groups.map((g) => parseInt(g || '0', 16))
}
