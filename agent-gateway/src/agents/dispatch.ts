import { createHmac } from 'node:crypto'
import { heartbeatTriggers, type AgentPacket } from '@circlechat/protocol'
import { checkCallbackUrl } from './ssrf.js'
import { MAX_REPLY_BYTES, postWebhook } from './webhook-client.js'
import type { SocketHub } from './socket-hub.js'

export interface DispatchTarget {
  agentId: string
  adapter: 'webhook' | 'socket' | 'peer'
  callbackUrl: string | null
  /** The raw bot token: it signs the body and authenticates us to the agent. */
  token: string
}

export interface DispatchOptions {
  hub: SocketHub
  allowPrivateUrls: boolean
  webhookTimeoutMs: number
  socketTimeoutMs: number
  /** Aborted when the server stops: a webhook call in flight is cut instead of awaited. */
  signal?: AbortSignal
}

/** The agent's answer as sent: the webhook body, or the text of the socket reply frame. */
export type RawReply = string

/**
 * Delivers one packet and returns the agent's raw reply; throws on timeouts, transport errors
 * and 5xx so the runner can retry. Never touches chat: the relay is not on this path.
 */
export async function dispatchPacket(target: DispatchTarget, packet: AgentPacket, opts: DispatchOptions): Promise<RawReply> {
  const isHeartbeat = heartbeatTriggers.includes(packet.trigger)
  if (target.adapter === 'socket') return opts.hub.dispatch(target.agentId, isHeartbeat ? 'heartbeat' : 'event', packet, opts.socketTimeoutMs)
  if (target.adapter !== 'webhook') throw new PermanentDispatchError('a peer agent syncs documents itself; it is not called')
  // Provisioned without a URL and not registered yet: retrying cannot help.
  if (!target.callbackUrl) throw new PermanentDispatchError('no callback URL registered yet: the agent registers one with POST /api/agents/:id/register')
  const checked = await checkCallbackUrl(target.callbackUrl, opts.allowPrivateUrls)
  if (!checked.ok) throw new Error(`callback URL refused: ${checked.reason}`)
  const url = new URL(isHeartbeat ? 'heartbeat' : 'event', checked.url.href.endsWith('/') ? checked.url : `${checked.url.href}/`)
  const body = JSON.stringify(packet)
  const res = await postWebhook(url, {
    'content-type': 'application/json',
    authorization: `Bearer ${target.token}`,
    'x-cc-agent': target.agentId,
    'x-cc-run': packet.runId,
    'x-cc-signature': `sha256=${createHmac('sha256', target.token).update(body).digest('hex')}`
  }, body, opts.webhookTimeoutMs, opts.allowPrivateUrls, opts.signal)
  const text = res.text
  if (res.status >= 500) throw new Error(`webhook answered HTTP ${res.status}`)
  if (res.truncated) throw new PermanentDispatchError(`webhook reply is over ${MAX_REPLY_BYTES / 1024 / 1024} MiB; answer with at most 20 actions of at most 40,000 characters each`)
  if (res.status >= 300) throw new PermanentDispatchError(`webhook answered HTTP ${res.status}${res.status < 400 ? ' (redirects are not followed)' : ''}: ${text.slice(0, 200)}`)
  // Prose is a valid reply, so garbage has to be recognised here or it would be posted to chat:
  // a body that claims JSON but does not parse, an HTML page (a proxy's error page with 200) or
  // binary. Each fails the attempt like a 5xx.
  const type = res.contentType
  if (/json/i.test(type) && text.trim() !== '') {
    try {
      JSON.parse(text)
    } catch {
      throw new Error(`webhook answered malformed JSON: ${text.slice(0, 80)}`)
    }
  }
  if (/html/i.test(type)) throw new Error('webhook answered an HTML page, not a reply')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) throw new Error('webhook answered a binary body')
  return text
}

/** A failure retrying cannot fix (4xx): the run fails at once. */
export class PermanentDispatchError extends Error {}
