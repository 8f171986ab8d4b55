// bench/board: a channel's board doc through the real relay (its own process) and the guard.
//   1. open a board of 5,000 tasks in a fresh client: time to synced and bytes received (median of 5)
//   2. 20 concurrent movers, each moving a random card every 200 ms (100 moves/s in all): move
//      made in one client → seen in an observer client, p50/p99; relay CPU per move (/proc)
//   3. 10 people typing in one description at once, each at 10 keystrokes/s at random places:
//      keystrokes/s sustained, keystroke → seen by every other typist p50/p99, and whether all
//      ten copies end identical with every keystroke kept
// Run: npx tsx bench/board.ts [tasks] [seconds]
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { TASK_STATUSES, createTask, docName, listTasks, positionBetween, tasksOf } from '@circlechat/model'
import { cpuSeconds, fmt, percentile, startRelayChild } from './lib/stats.js'

interface Info { url: string; conv: string; members: Array<{ id: string; token: string }> }

const TASKS = Number(process.argv[2] ?? 5000)
// Every provider adds a process exit listener; 32 clients are expected here.
process.setMaxListeners(64)
const SECONDS = Number(process.argv[3] ?? 10)
const MOVERS = 20
const TYPISTS = 10
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(check: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

// New cards count against the per-connection flood limit for new items (5/s); seeding 5,000 in
// batches of 250 is an import, not a chat, so that one limit is lifted. Everything else is default.
console.log(`${TASKS} tasks, ${MOVERS} movers, ${TYPISTS} typists, ${SECONDS} s per phase; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`)
const { child, info } = await startRelayChild<Info>(join(mkdtempSync(join(tmpdir(), 'cc-board-')), 'b.db'), MOVERS + TYPISTS + 2, { messagesPerSecond: 1e6, messageBurst: 1e6 })
const name = docName.board(info.conv)

/** A WebSocket that counts the bytes it receives. */
function countingSocket(counter: { bytes: number }) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.on('message', (d: Buffer) => (counter.bytes += d.byteLength))
    }
  }
}

function connect(token: string, counter = { bytes: 0 }) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(info.url, name, doc, { WebSocketPolyfill: countingSocket(counter) as never, disableBc: true, params: { token } })
  provider.on('connection-error', () => {})
  return { doc, provider, counter }
}

// 1. Seed the board through the guard in batches (each batch one update), then open it fresh.
const seeder = connect(info.members[0]!.token)
await until(() => seeder.provider.synced, 10_000, 'seeder sync')
const seedStart = performance.now()
const last = new Map<string, string | null>()
for (let done = 0; done < TASKS; done += 250) {
  seeder.doc.transact(() => {
    for (let i = done; i < Math.min(TASKS, done + 250); i++) {
      const status = TASK_STATUSES[i % 4]!
      const position = positionBetween(last.get(status) ?? null, null)
      last.set(status, position)
      createTask(seeder.doc, { createdBy: info.members[0]!.id, title: `Task ${i}: a card title of ordinary length`, description: `Notes for task ${i}.`, status, position })
    }
  })
}
const probe = connect(info.members[1]!.token)
await until(() => probe.provider.synced && tasksOf(probe.doc).size === TASKS, 120_000, 'seeded board at a second client')
console.log(`seeded ${TASKS} tasks through the guard in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (batches of 250)`)
probe.provider.destroy()

const opens: Array<{ ms: number; bytes: number }> = []
for (let i = 0; i < 5; i++) {
  const t0 = performance.now()
  const c = connect(info.members[1]!.token)
  await until(() => c.provider.synced && tasksOf(c.doc).size === TASKS, 60_000, 'open')
  const ms = performance.now() - t0
  const t1 = performance.now()
  const cards = listTasks(c.doc).length
  opens.push({ ms, bytes: c.counter.bytes })
  if (i === 0) console.log(`  (reading ${cards} cards into board order in the client: ${(performance.now() - t1).toFixed(0)} ms)`)
  c.provider.destroy()
}
opens.sort((a, b) => a.ms - b.ms)
console.log(`open a board of ${TASKS} tasks: ${fmt(opens[2]!.ms)} median of 5 (${opens.map((o) => o.ms.toFixed(0)).join(', ')}), ${(opens[2]!.bytes / 1024).toFixed(0)} KiB received`)

// 2. Concurrent movers.
const movers = info.members.slice(2, 2 + MOVERS).map((m) => connect(m.token))
const observer = connect(info.members[1]!.token)
await until(() => [...movers, observer].every((c) => c.provider.synced && tasksOf(c.doc).size === TASKS), 60_000, 'movers sync')
const ids = [...tasksOf(seeder.doc).keys()]
const sentAt = new Map<string, number>()
const moveLatency: number[] = []
observer.doc.on('update', () => {
  const now = performance.now()
  for (const [key, t] of sentAt) {
    const [id, position] = key.split('|') as [string, string]
    if (tasksOf(observer.doc).get(id)?.get('position') === position) {
      moveLatency.push(now - t)
      sentAt.delete(key)
    }
  }
})
const cpu0 = cpuSeconds(child.pid!)
let moves = 0
const moveEnd = performance.now() + SECONDS * 1000
await Promise.all(movers.map(async (c, k) => {
  await sleep(k * 10)
  while (performance.now() < moveEnd) {
    // Only the order keys of one column: reading whole cards (texts included) for 5,000 tasks
    // on every move would measure this process, not the relay.
    const status = TASK_STATUSES[Math.floor(Math.random() * 4)]!
    const column = [...tasksOf(c.doc).values()].filter((t) => t.get('status') === status).map((t) => ({ position: String(t.get('position')) })).sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
    const at = Math.floor(Math.random() * (column.length + 1))
    const position = positionBetween(column[at - 1]?.position ?? null, column[at]?.position ?? null)
    const id = ids[Math.floor(Math.random() * ids.length)]!
    sentAt.set(`${id}|${position}`, performance.now())
    c.doc.transact(() => {
      const map = tasksOf(c.doc).get(id)!
      map.set('status', status)
      map.set('position', position)
      map.set('updatedAt', Date.now())
    })
    moves++
    await sleep(200)
  }
}))
await sleep(1000)
const cpuMoves = cpuSeconds(child.pid!) - cpu0
moveLatency.sort((a, b) => a - b)
console.log(`${MOVERS} concurrent movers, ${moves} moves in ${SECONDS} s: seen by an observer in p50 ${fmt(percentile(moveLatency, 50))}, p99 ${fmt(percentile(moveLatency, 99))} (${moveLatency.length} seen; a card moved again before it arrived counts once); relay CPU ${((cpuMoves / moves) * 1000).toFixed(2)} ms per move`)
const orders = [...movers, observer].map((c) => listTasks(c.doc).map((t) => `${t.status}${t.id}`).join())
console.log(`  board order identical at all ${orders.length} clients: ${orders.every((o) => o === orders[0])}`)
for (const c of movers) c.provider.destroy()

// 3. Ten people typing in one description.
const taskId = ids[0]!
const typists = info.members.slice(2 + MOVERS, 2 + MOVERS + TYPISTS).map((m) => connect(m.token))
await until(() => typists.every((c) => c.provider.synced && tasksOf(c.doc).size === TASKS), 60_000, 'typists sync')
const textOf = (doc: Y.Doc) => tasksOf(doc).get(taskId)!.get('description') as Y.Text
// A keystroke is seen by a typist once that typist's copy holds its writer's clock.
const typed = new Map<number, Array<{ clock: number; t: number; seenBy: Set<number> }>>()
const echo: number[] = []
for (const c of typists) {
  c.doc.on('update', () => {
    const now = performance.now()
    for (const [client, keys] of typed) {
      if (client === c.doc.clientID) continue
      const state = Y.getState(c.doc.store, client)
      for (const k of keys) {
        if (k.clock >= state || k.seenBy.has(c.doc.clientID)) continue
        k.seenBy.add(c.doc.clientID)
        echo.push(now - k.t)
      }
      typed.set(client, keys.filter((k) => k.seenBy.size < TYPISTS - 1))
    }
  })
}
const before = textOf(observer.doc).length
const cpu1 = cpuSeconds(child.pid!)
let keystrokes = 0
const typeStart = performance.now()
const typeEnd = typeStart + SECONDS * 1000
await Promise.all(typists.map(async (c, k) => {
  await sleep(k * 7)
  while (performance.now() < typeEnd) {
    const text = textOf(c.doc)
    const at = Math.floor(Math.random() * (text.length + 1))
    const clock = Y.getState(c.doc.store, c.doc.clientID)
    typed.set(c.doc.clientID, [...(typed.get(c.doc.clientID) ?? []), { clock, t: performance.now(), seenBy: new Set() }])
    text.insert(at, String.fromCharCode(97 + (keystrokes % 26)))
    keystrokes++
    await sleep(100)
  }
}))
await until(() => [...typists, observer].every((c) => textOf(c.doc).length === before + keystrokes), 30_000, 'every keystroke everywhere')
const settled = (performance.now() - typeStart) / 1000
const cpuTyping = cpuSeconds(child.pid!) - cpu1
echo.sort((a, b) => a - b)
const texts = [...typists, observer].map((c) => textOf(c.doc).toString())
console.log(`${TYPISTS} typing in one description: ${keystrokes} keystrokes, ${(keystrokes / settled).toFixed(0)}/s sustained (all in everywhere ${settled.toFixed(1)} s after the first); echo to the other typists p50 ${fmt(percentile(echo, 50))}, p99 ${fmt(percentile(echo, 99))}; relay CPU ${((cpuTyping / keystrokes) * 1000).toFixed(2)} ms per keystroke`)
console.log(`  all ${texts.length} copies identical: ${texts.every((t) => t === texts[0])}, every keystroke kept: ${texts[0]!.length === before + keystrokes}`)

for (const c of [seeder, observer, ...typists]) c.provider.destroy()
child.kill('SIGTERM')
