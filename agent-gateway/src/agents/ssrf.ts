import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Callback URLs are fetched by the server, so they must not reach loopback, private, link-local
 * or metadata addresses unless the admin opts in (AGENT_ALLOW_PRIVATE_URLS=1, for agents on the
 * same box). Checked at provisioning and again before each dispatch (DNS can change).
 */
export async function checkCallbackUrl(raw: string, allowPrivate: boolean): Promise<{ ok: true; url: URL } | { ok: false; reason: string }> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, reason: 'not a URL' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http and https callbacks are allowed' }
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
  if (v6.startsWith('::ffff:')) return isPrivateAddress(v6.slice(7))
  return v6 === '::' || v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80') || v6.startsWith('ff')
}
