// The clients of the fan-out benches (fanout.ts, cluster.ts, scale.ts): raw receivers that
// timestamp relayed update frames (500 Y.Docs would starve the relay of CPU on 2 cores) and
// y-websocket senders that post at a steady rate.
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as decoding from 'lib0/decoding'
import { appendMessage } from '@circlechat/model'

export const RATE = 20 // messages per second in the conversation
export const MESSAGES = 200
// The relay allows one connection 5 new messages/s (burst 20); a busy channel is many people.
export const SENDERS = 10

export interface Receiver { url: string; times: number[]; socket: WebSocket }
export interface Sender { url: string; p: WebsocketProvider; id: string }

/** One raw socket per (relay url, token); resolves once every one is greeted (sync step 1). */
export async function openReceivers(doc: string, at: Array<{ url: string; token: string }>): Promise<Receiver[]> {
  return Promise.all(at.map(({ url, token }) => new Promise<Receiver>((resolve, reject) => {
    const socket = new WebSocket(`${url}/${doc}?token=${token}`)
    const r: Receiver = { url, times: [], socket }
    let greeted = false
    socket.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data))
      if (decoding.readVarUint(d) !== 0) return
      const t = decoding.readVarUint(d)
      if (t === 0 && !greeted) { greeted = true; resolve(r) }
      if (t === 2) r.times.push(performance.now())
    })
    socket.on('error', reject)
  })))
}

/** y-websocket providers for the posting members, synced. */
export async function openSenders(doc: string, at: Array<{ url: string; token: string; id: string }>): Promise<Sender[]> {
  const senders = at.map(({ url, token, id }) => {
    const p = new WebsocketProvider(url, doc, new Y.Doc(), { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token } })
    p.messageHandlers[101] = () => {}
    p.messageHandlers[100] = (_e, d) => console.error('rejected:', decoding.readVarString(d))
    return { url, p, id }
  })
  await Promise.all(senders.map(({ p }) => new Promise<void>((r) => p.once('sync', () => r()))))
  return senders
}

/** Posts MESSAGES round robin over the senders at RATE; returns each message's sender and send time. */
export async function post(senders: Sender[], receivers: Receiver[]): Promise<Array<{ from: Sender; at: number }>> {
  await new Promise((r) => setTimeout(r, 300))
  for (const r of receivers) r.times.length = 0
  const sent: Array<{ from: Sender; at: number }> = []
  for (let i = 0; i < MESSAGES; i++) {
    const from = senders[i % senders.length]!
    sent.push({ from, at: performance.now() })
    appendMessage(from.p.doc, { author: from.id, body: `message ${i} ${'lorem ipsum '.repeat(4)}` })
    await new Promise((r) => setTimeout(r, 1000 / RATE))
  }
  await new Promise((r) => setTimeout(r, 1000))
  return sent
}

/** Sorted send→receive latencies at `receivers` of the messages `which` keeps (frames arrive in order). */
export function latencies(receivers: Receiver[], sent: Array<{ from: Sender; at: number }>, which: (from: Sender, to: Receiver) => boolean = () => true): number[] {
  const out: number[] = []
  for (const r of receivers) r.times.forEach((t, k) => k < sent.length && which(sent[k]!.from, r) && out.push(t - sent[k]!.at))
  return out.sort((a, b) => a - b)
}

export function close(senders: Sender[], receivers: Receiver[]): void {
  for (const { p } of senders) p.destroy()
  for (const r of receivers) r.socket.terminate()
}
