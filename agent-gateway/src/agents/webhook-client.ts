import http from 'node:http'
import https from 'node:https'
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { isPrivateAddress } from './ssrf.js'

export interface WebhookResponse {
  status: number
  contentType: string
  text: string
  /** The body was longer than MAX_REPLY_BYTES; `text` holds only the start. */
  truncated: boolean
}

/**
 * A reply larger than this is cut off and refused: packets are answered with actions, not
 * documents. 4 MiB fits the largest valid reply (20 actions of 40,000 characters of up to four
 * UTF-8 bytes each, ~3.2 MB), so an oversized post is refused for its size, post by post.
 */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024

/**
 * POSTs a body to an agent's callback. Unless private addresses are allowed, the address is
 * checked when the socket connects, on the address actually dialled: a name that resolved to a
 * public address when the URL was checked cannot be switched to a private one in between
 * (DNS rebinding). Redirects are never followed.
 */
export function postWebhook(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean, signal?: AbortSignal): Promise<WebhookResponse> {
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal,
      ...(allowPrivate ? {} : { lookup: publicOnlyLookup })
    }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_REPLY_BYTES) chunks.push(chunk)
        size += chunk.length
      })
      res.on('end', () => {
        clearTimeout(deadline)
        const text = Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES).toString('utf8')
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, truncated: size > MAX_REPLY_BYTES })
      })
      res.on('error', reject)
    })
    const deadline = setTimeout(() => req.destroy(new Error(`timeout: no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs)
    req.on('error', (err) => {
      clearTimeout(deadline)
      reject(err)
    })
    req.end(body)
  })
}

/** Refuses, when the socket connects, a name that now resolves to a private address. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0)
    const bad = addresses.find((a) => isPrivateAddress(a.address))
    if (bad) return callback(new Error(`${hostname} now resolves to a private address (${bad.address})`), '', 0)
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
    callback(null, addresses[0]!.address, addresses[0]!.family)
  })
}
