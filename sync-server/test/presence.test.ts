// Presence fan-out: transitions are batched per flush, renewals that change nothing are not relayed
// as they come, echoes cost nothing. Real relay on loopback, real y-websocket clients and raw sockets.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as decoding from 'lib0/decoding'
import { docName, appendMessage, messagesOf } from '@circlechat/model'
import type { WebsocketProvider } from 'y-websocket'
import { startHarness, until, synced, watchRelay, type Harness } from './harness.js'
import type { SyncConfig } from '../src/index.js'

let h: Harness | null = null
afterEach(async () => {
  await h?.close()
  h = null
})

type Entry = { id: number; clock: number; state: Record<string, unknown> | null }

/** A raw socket that records each awareness frame the relay sends it, decoded, and counts posts. */
async function observer(url: string, name: string, token: string) {
  const ws = new WebSocket(`${url}/${name}?token=${token}`)
  const frames: Entry[][] = []
  let updates = 0
  ws.on('message', (data: Buffer) => {
    const d = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(d)
    if (type === 0 && decoding.readVarUint(d) === 2) updates++
    if (type !== 1) return
    const u = decoding.createDecoder(decoding.readVarUint8Array(d))
    const entries: Entry[] = []
    for (let n = decoding.readVarUint(u); n > 0; n--) entries.push({ id: decoding.readVarUint(u), clock: decoding.readVarUint(u), state: JSON.parse(decoding.readVarString(u)) })
    frames.push(entries)
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { frames, get updates() { return updates }, close: () => ws.close() }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function room(config: Partial<SyncConfig>, people: number) {
  h = await startHarness({ config })
  const members = Array.from({ length: people + 1 }, () => h!.seedMember())
  const conv = h.seedConversation(members.map((m) => m.memberId))
  const name = docName.conv(conv, 0)
  const providers = members.slice(1).map((m) => {
    const p = h!.connect(name, m.token)
    return { p, m, relay: watchRelay(p) }
  })
  await Promise.all(providers.map(({ p }) => synced(p)))
  for (const { p, m } of providers) p.awareness.setLocalState({ memberId: m.memberId, typing: false })
  const watcher = await observer(h.url, name, members[0]!.token)
  // Settled: the watcher was greeted with every state and no flush is pending.
  await until(() => providers.every(({ p }) => watcherSees(watcher, p)), 5000, 'greeting')
  await sleep((config.presenceFlushMs ?? 1000) * 2)
  watcher.frames.length = 0
  return { name, providers, watcher, members }
}

function watcherSees(w: { frames: Entry[][] }, p: WebsocketProvider) {
  return w.frames.some((f) => f.some((e) => e.id === p.awareness.clientID && e.state !== null && 'memberId' in e.state))
}

describe('presence fan-out', () => {
  it('does not relay a renewal that changes nothing', async () => {
    const { providers, watcher } = await room({ presenceFlushMs: 100, presenceRenewMs: 60_000 }, 2)
    const { p } = providers[0]!
    for (let i = 0; i < 5; i++) p.awareness.setLocalState(p.awareness.getLocalState())
    await sleep(600)
    expect(watcher.frames).toEqual([])
    // The renewal was taken (the server knows the new clock), it just was not sent on.
    const other = providers[1]!.p
    expect(other.awareness.meta.get(p.awareness.clientID)!.clock).toBeLessThan(p.awareness.meta.get(p.awareness.clientID)!.clock)
  })

  it('batches renewals into one frame per renewal interval, so peers do not time out', async () => {
    const { providers, watcher } = await room({ presenceFlushMs: 100, presenceRenewMs: 400 }, 4)
    for (const { p } of providers) p.awareness.setLocalState(p.awareness.getLocalState())
    await until(() => watcher.frames.length > 0, 5000, 'renewal batch')
    await sleep(600)
    expect(watcher.frames.length).toBe(1)
    const ids = new Set(watcher.frames[0]!.map((e) => e.id))
    for (const { p } of providers) {
      expect(ids.has(p.awareness.clientID)).toBe(true)
      const entry = watcher.frames[0]!.find((e) => e.id === p.awareness.clientID)!
      expect(entry.clock).toBe(p.awareness.meta.get(p.awareness.clientID)!.clock)
    }
  })

  it('relays changes to others within the flush, many changes in one frame per socket', async () => {
    const { providers, watcher } = await room({ presenceFlushMs: 300, presenceRenewMs: 60_000 }, 6)
    for (const { p } of providers) p.awareness.setLocalStateField('typing', true)
    await until(() => watcher.frames.length > 0, 5000, 'flush')
    await sleep(700)
    expect(watcher.frames.length).toBe(1)
    expect(watcher.frames[0]!.map((e) => e.id).sort()).toEqual(providers.map(({ p }) => p.awareness.clientID).sort())
    expect(watcher.frames[0]!.every((e) => e.state?.typing === true)).toBe(true)
    // Every y-websocket peer sees everyone typing; their echoes cost no rate-limit tokens.
    for (const { p } of providers) {
      await until(() => providers.every(({ p: q }) => p.awareness.getStates().get(q.awareness.clientID)?.typing === true), 5000, 'peers typing')
    }
    expect(providers.flatMap(({ relay }) => relay.rejects)).toEqual([])
  })

  it('typing start and stop, the server\'s thinking state and a disconnect reach the others', async () => {
    const { providers, name } = await room({ presenceFlushMs: 100 }, 2)
    const [ada, bob] = providers as [typeof providers[0], typeof providers[0]]
    const typingAtBob = () => bob.p.awareness.getStates().get(ada.p.awareness.clientID)?.typing
    ada.p.awareness.setLocalStateField('typing', true)
    await until(() => typingAtBob() === true, 5000, 'typing start')
    ada.p.awareness.setLocalStateField('typing', false)
    await until(() => typingAtBob() === false, 5000, 'typing stop')

    const server = await h!.sync.getDoc(name)
    await h!.sync.setServerPresence(name, { thinking: ['a_agent'] })
    await until(() => JSON.stringify(bob.p.awareness.getStates().get(server.clientID)) === '{"thinking":["a_agent"]}', 5000, 'thinking')
    await h!.sync.setServerPresence(name, null)
    await until(() => !bob.p.awareness.getStates().has(server.clientID), 5000, 'thinking cleared')

    ada.p.disconnect()
    await until(() => !bob.p.awareness.getStates().has(ada.p.awareness.clientID), 5000, 'offline')
    // Reconnecting under the same client id is heard again at its next renewal (y-protocols
    // ignores the same clock re-sent): nobody claimed the id by echoing its removal.
    ada.p.connect()
    await synced(ada.p)
    ada.p.awareness.setLocalState(ada.p.awareness.getLocalState())
    await until(() => bob.p.awareness.getStates().get(ada.p.awareness.clientID)?.memberId === ada.m.memberId, 5000, 'back online')
  })

  it('delivers every post while many sockets renew presence', async () => {
    const { providers, watcher } = await room({ presenceFlushMs: 100, presenceRenewMs: 300 }, 20)
    // Flushes larger than a client's own 4 KiB limit come back as echoes: not refused.
    for (const { p } of providers) p.awareness.setLocalStateField('pad', 'x'.repeat(300))
    const renew = setInterval(() => {
      for (const { p } of providers) p.awareness.setLocalState(p.awareness.getLocalState())
    }, 50)
    const posts = 40
    try {
      for (let i = 0; i < posts; i++) {
        const { p, m } = providers[i % providers.length]!
        appendMessage(p.doc, { author: m.memberId, body: `post ${i}` })
        await sleep(25)
      }
      await until(() => watcher.updates >= posts, 10_000, 'posts at the watcher')
      for (const { p } of providers) await until(() => messagesOf(p.doc).length === posts, 10_000, 'posts everywhere')
    } finally {
      clearInterval(renew)
    }
    expect(watcher.updates).toBe(posts)
    expect(providers.flatMap(({ relay }) => relay.rejects)).toEqual([])
  })
})
