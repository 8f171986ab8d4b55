import { Redis } from 'ioredis'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/**
 * What the cluster tests share: a real Redis on 127.0.0.1:6379 (REDIS_TEST_URL overrides) with
 * every key of a test file under a prefix of its own, deleted after; scratch SQLite files; and
 * fixtures run in processes of their own, to be killed with SIGKILL.
 */
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

export function redisScratch() {
  const prefix = `cc-test:${randomUUID()}:`
  const conns: Redis[] = []
  const children: ChildProcess[] = []
  return {
    prefix,
    /** A connection of its own, closed by `disconnect` or `cleanup`. */
    connect(): Redis {
      const r = new Redis(REDIS_URL)
      conns.push(r)
      return r
    },
    /** Runs `test/fixtures/<fixture>` with `args` in a process of its own, collecting its lines. */
    spawn(fixture: string, args: string[]) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', fixture), ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
      children.push(child)
      const lines: string[] = []
      const waiters = new Set<() => void>()
      const wake = () => waiters.forEach((w) => w())
      let gone = false
      const exited = new Promise((r) => child.once('exit', r)).finally(() => {
        gone = true
        wake()
      })
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line)
        wake()
      })
      return {
        child,
        exited,
        lines,
        /** Resolves once `ok()` holds, checked on each line; rejects if the process ends first. */
        async until(ok: () => boolean): Promise<void> {
          while (!ok()) {
            if (gone) throw new Error(`${fixture} exited; its output: ${lines.join(' | ')}`)
            await new Promise<void>((r) => {
              const w = () => {
                waiters.delete(w)
                r()
              }
              waiters.add(w)
            })
          }
        }
      }
    },
    /** Kills the spawned processes and closes the connections (between tests). */
    disconnect() {
      children.splice(0).forEach((c) => c.kill('SIGKILL'))
      conns.splice(0).forEach((c) => c.disconnect())
    },
    /** Also deletes every key under the prefix (after all tests). */
    async cleanup() {
      this.disconnect()
      const admin = new Redis(REDIS_URL)
      const keys = await admin.keys(`${prefix}*`)
      if (keys.length > 0) await admin.del(...keys)
      admin.disconnect()
    }
  }
}

/** A scratch directory with the path of a database file in it, removed by `remove`. */
export function scratchDb(tag: string) {
  const dir = mkdtempSync(join(tmpdir(), `cc-${tag}-`))
  return { dir, file: join(dir, 'shared.db'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
