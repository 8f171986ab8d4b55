import { afterEach, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, PASSWORD, signupAdmin } from '../src/test/harness.js'
import { BACKUP_CLI, cleanEnv, freePort, runToExit, startMain } from '../src/test/main-process.js'

// `npm run backup` / `npm run restore` (src/backup/cli.ts) against the real server in a child
// process, while clients post over REST as fast as they can: every message acknowledged before
// the backup began must come back in a server started on the restored folder.

const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'cc-backup-'))
  dirs.push(d)
  return d
}
const cli = (command: 'backup' | 'restore', dir: string, dataDir: string) =>
  runToExit(process.execPath, ['--import', 'tsx', BACKUP_CLI, command, dir], cleanEnv({ DATA_DIR: dataDir }), 120_000)

async function serve(dataDir: string) {
  const s = await startMain(dataDir, await freePort())
  children.push(s.proc)
  return s
}

async function allBodies(client: Client, conversationId: string): Promise<string[]> {
  const out: string[] = []
  let cursor: string | null = null
  do {
    const res: { status: number; body: any } = await client.get(`/api/conversations/${conversationId}/messages?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    expect(res.status).toBe(200)
    out.unshift(...res.body.messages.map((m: { bodyMd: string }) => m.bodyMd))
    cursor = res.body.nextCursor
  } while (cursor)
  return out
}

const download = async (base: string, cookie: string, url: string) => {
  const res = await fetch(base + url, { headers: { cookie: `cc_session=${cookie}` } })
  return { status: res.status, text: await res.text() }
}

/** Posts in a loop from `workers` clients, recording when each post was acknowledged. */
function load(base: string, cookie: string, conversationId: string, workers: number) {
  const acked: Array<{ body: string; at: number }> = []
  const uploads: Array<{ url: string; text: string; at: number }> = []
  let stop = false
  const run = async (w: number) => {
    const c = new Client(base)
    c.cookie = cookie
    for (let i = 0; !stop; i++) {
      // Every tenth round an upload too: blobs land while the backup copies them.
      if (i % 10 === 0) {
        const text = `file ${w}-${i}\n`
        const up = await c.upload('/api/uploads', `f-${w}-${i}.txt`, text, 'text/plain')
        if (up.status === 201) uploads.push({ url: up.body.url, text, at: Date.now() })
      }
      const body = `load ${w}-${i}`
      const res = await c.post(`/api/conversations/${conversationId}/messages`, { bodyMd: body })
      if (res.status !== 201) throw new Error(`post failed: ${res.status} ${JSON.stringify(res.body)}`)
      acked.push({ body, at: Date.now() })
    }
  }
  const done = Promise.all(Array.from({ length: workers }, (_, w) => run(w)))
  return { acked, uploads, done, halt: () => { stop = true } }
}

describe('backup and restore', () => {
  it('a backup taken under write load restores to a working server with every acknowledged message', async () => {
    const dataDir = await tempDir()
    const first = await serve(dataDir)
    const ada = await signupAdmin(first.url)
    const general = (await ada.client.get('/api/conversations')).body.conversations[0].id as string

    const stream = load(first.url, ada.client.cookie!, general, 4)
    while (stream.acked.length < 150) await new Promise((r) => setTimeout(r, 10))
    const began = Date.now()
    // Counted, not compared by time: an ack in the same millisecond as `began` is still before it.
    const ackedBefore = stream.acked.length
    const backupDir = join(await tempDir(), 'nightly')
    const taken = await cli('backup', backupDir, dataDir)
    const ended = Date.now()
    const duringBackup = stream.acked.filter((a) => a.at > began && a.at < ended).length
    stream.halt()
    await stream.done
    expect(taken.stderr).toBe('')
    expect(taken.code).toBe(0)
    expect(taken.stdout).toContain(`written to ${backupDir}`)
    expect(duringBackup).toBeGreaterThan(0) // the server really was being written to meanwhile
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({ format: 1, serverKey: true, s3: false, missingBlobs: [] })
    expect(manifest.blobs.count).toBeGreaterThan(0)
    expect(readdirSync(join(backupDir, '..'))).toEqual(['nightly']) // no partial folder left

    // A restore refuses a DATA_DIR with anything in it, and says what to do.
    const refused = await cli('restore', backupDir, dataDir)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`restore failed: DATA_DIR ${dataDir} is not empty (`)
    expect(refused.stderr).toContain('move that folder aside')
    // And a backup refuses a folder already holding one.
    expect((await cli('backup', backupDir, dataDir)).stderr).toContain(`${backupDir} is not empty`)

    const restoredDir = join(await tempDir(), 'restored')
    const restored = await cli('restore', backupDir, restoredDir)
    expect(restored.stderr).toBe('')
    expect(restored.code).toBe(0)

    const second = await serve(restoredDir)
    // The session came back with the database: the same cookie signs Ada in.
    const client = new Client(second.url)
    client.cookie = ada.client.cookie
    const bodies = await allBodies(client, general)
    const stored = new Set(bodies)
    expect(bodies.length).toBe(stored.size) // none twice
    const before = stream.acked.slice(0, ackedBefore)
    expect(before.length).toBeGreaterThanOrEqual(150)
    expect(before.filter((a) => !stored.has(a.body))).toEqual([])
    // Nothing that was never acknowledged appears.
    const everAcked = new Set(stream.acked.map((a) => a.body))
    expect(bodies.filter((b) => b.startsWith('load ') && !everAcked.has(b))).toEqual([])
    // Files uploaded before the backup serve their bytes.
    const filesBefore = stream.uploads.filter((u) => u.at < began)
    expect(filesBefore.length).toBeGreaterThan(0)
    for (const u of filesBefore) expect(await download(second.url, ada.client.cookie!, u.url)).toEqual({ status: 200, text: u.text })

    // The restored server works: sign in afresh, post, read it back.
    const login = new Client(second.url)
    expect((await login.post('/api/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(200)
    expect((await login.post(`/api/conversations/${general}/messages`, { bodyMd: 'after the restore' })).status).toBe(201)
    expect((await allBodies(login, general)).at(-1)).toBe('after the restore')

    second.proc.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    first.proc.kill('SIGTERM')
    expect(await first.exited).toBe(0)
  }, 120_000)

  it('backs up a stopped server too, agents\' token key included, and refuses a folder that is not a backup', async () => {
    const dataDir = await tempDir()
    const first = await serve(dataDir)
    const ada = await signupAdmin(first.url)
    const general = (await ada.client.get('/api/conversations')).body.conversations[0].id as string
    const agent = await ada.client.post('/api/agents', { name: 'Sock', handle: 'sock', adapter: 'socket', channelIds: [general] })
    expect(agent.status).toBe(201)
    for (let i = 0; i < 20; i++) expect((await ada.client.post(`/api/conversations/${general}/messages`, { bodyMd: `quiet ${i}` })).status).toBe(201)
    first.proc.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const backupDir = join(await tempDir(), 'b')
    const taken = await cli('backup', backupDir, dataDir)
    expect(taken.code).toBe(0)
    expect(JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8')).serverKey).toBe(true)

    const notBackup = await tempDir()
    await mkdir(join(notBackup, 'uploads'))
    await writeFile(join(notBackup, 'circlechat.db'), 'x')
    const wrong = await cli('restore', notBackup, join(await tempDir(), 'x'))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('is not a CircleChat backup (no manifest.json')

    const restoredDir = join(await tempDir(), 'r')
    expect((await cli('restore', backupDir, restoredDir)).code).toBe(0)
    expect(readFileSync(join(restoredDir, 'server.key'), 'utf8')).toBe(readFileSync(join(dataDir, 'server.key'), 'utf8'))
    expect(existsSync(join(restoredDir, 'circlechat.db.restoring'))).toBe(false)
    const second = await serve(restoredDir)
    const client = new Client(second.url)
    client.cookie = ada.client.cookie
    expect((await allBodies(client, general)).filter((b) => b.startsWith('quiet '))).toEqual(Array.from({ length: 20 }, (_, i) => `quiet ${i}`))
    second.proc.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 120_000)
})
