import { openDb } from '@circlechat/db'
import { createScratchDatabase, openPgDb } from '@circlechat/db/pg'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { PgDocStore } from '../src/persistence/postgres.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import type { DocStore } from '../src/persistence/store.js'

let child: ChildProcess | null = null
afterEach(() => child?.kill('SIGKILL'))

/**
 * SIGKILL of a process appending 16 at a time: every acknowledged append is stored, and what is
 * stored is a prefix of the appends (batches commit whole and in order; no gap, no reordering).
 */
async function killMidWrite(kind: 'sqlite' | 'postgres', target: string, reopen: () => Promise<{ store: DocStore<never>; close: () => Promise<void> }>) {
  const doc = 'conv:c_kill:0'
  child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/child-store.ts'), kind, target, doc], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((r) => child!.once('exit', r))
  const acked: number[] = []
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      acked.push(Number(line))
      if (acked.length === 500) {
        child!.kill('SIGKILL')
        resolve()
      }
    })
    void exited.then(() => reject(new Error('the appending process exited by itself')))
  })
  await exited
  const { store, close } = await reopen()
  try {
    const stored = (await store.loadDoc(doc)).map((u) => new Uint32Array(u.buffer.slice(u.byteOffset, u.byteOffset + 4))[0]!)
    expect(stored.length).toBeGreaterThanOrEqual(500)
    expect(stored).toEqual([...stored.keys()])
    const have = new Set(stored)
    expect(acked.filter((i) => !have.has(i))).toEqual([])
  } finally {
    await close()
  }
}

describe('SIGKILL mid-write loses no acknowledged append', () => {
  it('SQLite', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cc-store-kill-')), 'kill.db')
    await killMidWrite('sqlite', file, async () => {
      const db = openDb(file)
      return { store: new SqliteStore(db), close: async () => db.$client.close() }
    })
  })

  it('PostgreSQL', async () => {
    const scratch = await createScratchDatabase()
    try {
      // Migrated here, so the child's open does not race the test's reopen.
      await (await openPgDb(scratch.url, { max: 1 })).$client.end()
      await killMidWrite('postgres', scratch.url, async () => {
        const db = await openPgDb(scratch.url, { max: 2 })
        return { store: new PgDocStore(db), close: () => db.$client.end() }
      })
    } finally {
      await scratch.drop()
    }
  })
})
