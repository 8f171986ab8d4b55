// bench/store: the document store alone (no relay), SQLite file vs PostgreSQL on loopback.
// `INFLIGHT` appends always outstanding (default 1, 16 and 256), each a 150-byte update (a
// one-message Yjs update is ~144 B), alone and with its message written to the index in the same
// transaction as the relay's alsoWrite does it (the dialect's rows: upsert and file refs): acknowledged appends/s, ack p50/p99, this process's CPU
// per append, the event loop's busy time per append (eventLoopUtilization: time not idle, which
// includes an fsync the loop waits in), and for PostgreSQL the server backends' CPU per append
// (/proc/<pid>/stat). SQLite runs twice: the WAL synced on the thread pool after each batch (the
// store's default) and synced by COMMIT on the loop (`syncOffLoop: false`), taking turns.
// Run: npx tsx bench/store.ts   (PG_TEST_URL: the PostgreSQL admin URL, default loopback)
import { openDb, type Db } from '@circlechat/db'
import { createScratchDatabase, openPgDb, type PgDb } from '@circlechat/db/pg'
import type { Message } from '@circlechat/model'
import { SqliteStore, sqliteRows } from '@circlechat/sync-server'
import { PgDocStore, pgRows } from '@circlechat/sync-server/pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { cpuSeconds, fmt, percentile } from './lib/stats.js'

const SECONDS = Number(process.env.SECONDS ?? 2)
const INFLIGHT = (process.env.INFLIGHT ?? '1 16 256').split(' ').map(Number)
const update = new Uint8Array(150).fill(7)
let n = 0
const DOC = 'conv:c_bench:0'
/** One new message and its (empty) attachments, as MessageIndex hands them to the rows. */
function message(): [Message[], Array<{ ref: string; keys: string[]; deleted: boolean; createdAt: number; taskId: null }>] {
  const m: Message = {
    id: `m_${++n}`, author: 'u_bench', createdAt: Date.now(), body: 'a message of ordinary length, about this long', editedAt: null,
    deleted: false, mentions: [], attachments: [], parentId: null, reactions: [], threadCount: 0, lastReplyAt: null, card: null
  }
  return [[m], [{ ref: m.id, keys: [], deleted: false, createdAt: m.createdAt, taskId: null }]]
}

interface Target {
  name: string
  append(withIndex: boolean): Promise<void>
  serverCpu(): Promise<number>
}

async function run(t: Target, inflight: number, withIndex: boolean) {
  const lat: number[] = []
  const until = performance.now() + SECONDS * 1000
  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const server0 = await t.serverCpu()
  const t0 = performance.now()
  const worker = async () => {
    while (performance.now() < until) {
      const s = performance.now()
      await t.append(withIndex)
      lat.push(performance.now() - s)
    }
  }
  await Promise.all(Array.from({ length: inflight }, worker))
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const loop = performance.eventLoopUtilization(elu0)
  const server = (await t.serverCpu()) - server0
  lat.sort((a, b) => a - b)
  const per = (s: number) => `${((s * 1000) / lat.length).toFixed(3)} ms`
  console.log(`${t.name.padEnd(20)} ${withIndex ? '+ index row' : 'update only'}  ${String(inflight).padStart(3)} in flight: ${Math.round(lat.length / wall).toString().padStart(6)} appends/s, ack p50 ${fmt(percentile(lat, 50))} p99 ${fmt(percentile(lat, 99))}, CPU per append: here ${per((cpu.user + cpu.system) / 1e6)}, loop busy ${per(loop.active / 1000)}${t.name === 'PostgreSQL' ? `, server ${per(server)}` : ''}`)
}

async function bench(t: Target) {
  for (const withIndex of [false, true]) for (const inflight of INFLIGHT) await run(t, inflight, withIndex)
}

// The two SQLite modes take turns, each configuration ROUNDS times, so a disk whose fsync
// latency swings (a shared box, an SD card) weighs on both alike.
const ROUNDS = Number(process.env.ROUNDS ?? 2)
const dir = mkdtempSync(join(tmpdir(), 'cc-bench-store-'))
const sqliteTargets = [true, false].map((syncOffLoop) => {
  const db: Db = openDb(join(dir, `bench-${syncOffLoop}.db`))
  const store = new SqliteStore(db, { syncOffLoop })
  const rows = sqliteRows(db)
  const target: Target = {
    name: syncOffLoop ? 'SQLite' : 'SQLite, COMMIT syncs',
    append: (withIndex) => store.appendUpdate(DOC, update, withIndex ? (tx) => rows.writeMessages(tx, DOC, 'c_bench', ...message()) : undefined),
    serverCpu: async () => 0
  }
  return { target, close: async () => { await store.close(); db.$client.close() } }
})
for (const withIndex of [false, true]) for (const inflight of INFLIGHT) for (let r = 0; r < ROUNDS; r++) for (const { target } of sqliteTargets) await run(target, inflight, withIndex)
for (const { close } of sqliteTargets) await close()
rmSync(dir, { recursive: true, force: true })

const scratch = await createScratchDatabase()
const pgDb: PgDb = await openPgDb(scratch.url)
const pg = new PgDocStore(pgDb)
const pgIndex = pgRows(pgDb)
const backends = async () => (await pgDb.$client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid)
await bench({
  name: 'PostgreSQL',
  append: (withIndex) => pg.appendUpdate(DOC, update, withIndex ? (tx) => pgIndex.writeMessages(tx, DOC, 'c_bench', ...message()) : undefined),
  // The pool's backends: they do the work (WAL writer and checkpointer not counted).
  serverCpu: async () => (await backends()).reduce((s, pid) => s + cpuSeconds(pid), 0)
})
await pg.close()
await pgDb.$client.end()
await scratch.drop()
