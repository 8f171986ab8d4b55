import { afterAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXIT_CONFIG, POSTGRES_NOT_YET } from '../src/config.js'
import { MAIN, cleanEnv, freePort, runToExit } from '../src/test/main-process.js'

// The real entry point (src/main.ts) in a child process with a bad environment: it must print
// what to fix on stderr and exit non-zero, before it opens the database or the port.
const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cc-config-'))
  dirs.push(d)
  return d
}
let mounted: string | null = null
afterAll(() => {
  if (mounted) {
    try { execFileSync('mount', ['-o', 'remount,rw', mounted], { stdio: 'pipe' }) } catch {}
    execFileSync('umount', [mounted], { stdio: 'pipe' })
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const portOpen = (port: number) => new Promise<boolean>((resolve) => {
  const sock = connect(port, '127.0.0.1')
  sock.once('connect', () => { sock.destroy(); resolve(true) })
  sock.once('error', () => resolve(false))
})

/** Runs main.ts to its exit (15 s at most); a process still running then has half-started. */
async function run(env: Record<string, string>) {
  const port = await freePort()
  return { ...(await runToExit(process.execPath, ['--import', 'tsx', MAIN], cleanEnv({ PORT: String(port), HOST: '127.0.0.1', ...env }), 15_000)), port }
}

describe('starting with a bad configuration', () => {
  it('DATABASE_URL: one line saying what is not on PostgreSQL yet, exits 78, touches nothing', async () => {
    const dataDir = tempDir()
    const r = await run({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/circlechat' })
    expect(r.code).toBe(EXIT_CONFIG)
    expect(r.stderr.trim()).toBe(`CircleChat did not start: ${POSTGRES_NOT_YET}`)
    expect(r.stdout).not.toContain('listening')
    expect(readdirSync(dataDir)).toEqual([])
  })

  it('a SESSION_SECRET under 32 characters: says so without echoing it, exits 78, touches nothing', async () => {
    const dataDir = tempDir()
    const r = await run({ DATA_DIR: dataDir, SESSION_SECRET: 'hunter2-but-longer' })
    expect(r.code).toBe(EXIT_CONFIG)
    expect(r.stderr).toContain('CircleChat did not start: the configuration is invalid')
    expect(r.stderr).toContain('SESSION_SECRET: must be at least 32 characters (it has 18); generate one with: openssl rand -hex 32')
    expect(r.stderr).not.toContain('hunter2')
    expect(r.stderr).not.toMatch(/\n\s+at /) // a message, not a stack trace
    expect(r.stdout).not.toContain('listening')
    expect(readdirSync(dataDir)).toEqual([]) // no database was created
  })

  it('a PUBLIC_BASE_URL that is not a URL, and every other bad variable in the same run', async () => {
    const r = await run({ DATA_DIR: tempDir(), PUBLIC_BASE_URL: 'chat.example.com', PORT: 'eighty', REDIS_URL: '', SESSION_SECRET: 'short' })
    expect(r.code).toBe(EXIT_CONFIG)
    expect(r.stderr).toContain('PUBLIC_BASE_URL: not a URL: write the address people open, with its scheme, e.g. https://chat.example.com (it is "chat.example.com")')
    expect(r.stderr).toContain('PORT: not a port number (it is "eighty")')
    expect(r.stderr).toContain('SESSION_SECRET: must be at least 32 characters')
    expect(r.stderr).not.toContain('REDIS_URL') // empty means unset
  })

  it.skipIf(process.getuid?.() !== 0)('a DATA_DIR on a read-only filesystem: a clear message, exit 1, the port never opens', async () => {
    // chmod cannot stop root (CI runs as root): mount a small tmpfs and remount it read-only.
    const mnt = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' })
    mounted = mnt
    mkdirSync(join(mnt, 'data'))
    execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' })
    const r = await run({ DATA_DIR: join(mnt, 'data'), SESSION_SECRET: 'x'.repeat(40) })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`CircleChat did not start: DATA_DIR ${join(mnt, 'data')} cannot be written`)
    expect(r.stderr).toMatch(/read-only/i)
    expect(r.stdout).not.toContain('listening')
    expect(await portOpen(r.port)).toBe(false)
  })
})
