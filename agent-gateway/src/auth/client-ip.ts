import { BlockList, isIP } from 'node:net'
import type { Context } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'

/**
 * The client's IP address. By default the socket's peer: a proxy header could be forged by
 * anyone. With TRUST_PROXY (addresses or CIDR ranges of the reverse proxy), a request whose
 * peer is one of those takes its client from `X-Forwarded-For`: the rightmost entry that is not
 * itself a trusted proxy (entries to its left were written by the client and prove nothing).
 */
export type ClientIp = (c: Context) => string

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is 1.2.3.4. */
export function normalizeIp(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return m ? m[1]! : address
}

/** Parses one TRUST_PROXY entry (`10.0.0.1`, `::1`, `172.28.0.0/16`); null if it is neither. */
export function parseProxyEntry(entry: string): { address: string; prefix: number | null; family: 'ipv4' | 'ipv6' } | null {
  const [address, prefixText, ...rest] = entry.trim().split('/')
  if (!address || rest.length > 0) return null
  const v = isIP(address)
  if (v === 0) return null
  const family = v === 4 ? 'ipv4' : 'ipv6'
  if (prefixText === undefined) return { address, prefix: null, family }
  if (!/^\d{1,3}$/.test(prefixText)) return null
  const prefix = Number(prefixText)
  return prefix <= (v === 4 ? 32 : 128) ? { address, prefix, family } : null
}

export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const e of entries) {
    const p = parseProxyEntry(e)
    if (!p) throw new Error(`not an IP address or CIDR range: ${e}`)
    if (p.prefix === null) list.addAddress(p.address, p.family)
    else list.addSubnet(p.address, p.prefix, p.family)
  }
  return list
}

function trusted(list: BlockList, address: string): boolean {
  const v = isIP(address)
  return v !== 0 && list.check(address, v === 4 ? 'ipv4' : 'ipv6')
}

export function clientIpResolver(trustProxy: readonly string[]): ClientIp {
  const proxies = trustProxy.length > 0 ? proxyList(trustProxy) : null
  return (c) => {
    let peer: string
    try {
      peer = normalizeIp(getConnInfo(c).remote.address ?? 'unknown')
    } catch {
      return 'unknown' // app.request() in tests has no socket
    }
    if (!proxies || !trusted(proxies, peer)) return peer
    const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((h) => normalizeIp(h.trim())).filter(Boolean)
    let client = peer
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!
      if (isIP(hop) === 0) break // garbage: trust nothing further left
      client = hop
      if (!trusted(proxies, hop)) break
    }
    return client
  }
}
