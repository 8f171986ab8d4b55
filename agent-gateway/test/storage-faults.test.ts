import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import { appendMessage, docName, listMessages } from '@circlechat/model'
import { startServer, type RunningServer } from '../src/server.js'
import { Client, signupAdmin } from '../src/test/harness.js'
import { syncClient, whenSynced } from '../src/test/sync-client.js'

/**
 * "An acknowledgement means stored", on real storage faults: DATA_DIR is a small tmpfs the test
 * mounts, filled to the last byte, then remounted read-only. (chmod could never fail for root,
 * which CI runs as; a full or read-only filesystem refuses root too.)
 */
const isRoot = process.getuid?.() === 0
const dir = mkdtempSync(join(tmpdir(), 'cc-faults-'))
let mounted = false
let server: RunningServer | null = null
const filler: string[] = []
const freeDisk = () => {
  for (const f of filler.splice(0)) rmSync(f, { force: true })
}

const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' })
const start = () => startServer({ dataDir: dir, port: 0, host: '127.0.0.1', webRoot: null })

/** Writes filler files until the filesystem refuses another byte; returns them. */
function fillDisk(): string[] {
  const files: string[] = []
  for (const size of [1024 * 1024, 16 * 1024, 512, 1]) {
    for (;;) {
      const f = join(dir, `filler-${files.length}`)
      try {
        writeFileSync(f, Buffer.alloc(size))
        files.push(f)
      } catch {
        rmSync(f, { force: true })
        break
      }
    }
  }
  return files
}

beforeAll(() => {
  if (!isRoot) return
  sh('mount', '-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dir)
  mounted = true
})
afterAll(async () => {
  await server?.close().catch(() => {})
  freeDisk()
  if (mounted) {
    try { sh('mount', '-o', 'remount,rw', dir) } catch {}
    sh('umount', dir)
  }
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!isRoot)('storage faults (needs root to mount a tmpfs)', () => {
  let ada: Awaited<ReturnType<typeof signupAdmin>>
  let channel: string
  const posted = new Map<string, number>()

  const post = async (client: Client, body: string) => {
    const res = await client.post(`/api/conversations/${channel}/messages`, { bodyMd: body })
    posted.set(body, res.status)
    return res
  }

  it('a full disk: no 2xx and no ack without storage, /health says so, and it recovers', async () => {
    server = await start()
    ada = await signupAdmin(server.url)
    channel = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'ops', memberIds: [] })).body.conversation.id
    for (let i = 0; i < 3; i++) expect((await post(ada.client, `before ${i}`)).status).toBe(201)
    expect((await ada.client.get('/health')).status).toBe(200)

    // A sync client that records the relay's rejects and acks.
    const provider = syncClient(server.url, ada.client.cookie!, docName.conv(channel, 0))
    const relay = { rejects: [] as string[], acks: 0 }
    provider.messageHandlers[100] = (_e, d) => { relay.rejects.push(decoding.readVarString(d)) }
    // Acks count per connection; the socket reconnects after each reload, so count the messages.
    provider.messageHandlers[101] = (_e, d) => { decoding.readVarUint(d); relay.acks++ }
    await whenSynced(provider)

    filler.push(...fillDisk())
    const statuses: number[] = []
    for (let i = 0; i < 60; i++) statuses.push((await post(ada.client, `full ${i} ${'x'.repeat(4000)}`)).status)
    expect(statuses.every((s) => s === 201 || s === 507)).toBe(true)
    expect(statuses).toContain(507)
    const refused = await ada.client.post(`/api/conversations/${channel}/messages`, { bodyMd: 'probe' })
    if (refused.status === 507) expect(refused.body).toMatchObject({ error: 'storage_full' })
    expect((await ada.client.get('/health')).status).toBe(503)

    // Over sync: never acknowledged while nothing can be stored (refused with storageFailure,
    // or the reconnecting socket cannot even be authorised); the client keeps it and it lands
    // once there is room again.
    const acksBefore = relay.acks
    appendMessage(provider.doc, { author: ada.member.id, body: 'sync while full' })
    await new Promise((r) => setTimeout(r, 1500))
    expect(relay.acks).toBe(acksBefore)
    expect(listMessages(await server.gateway.sync.getDoc(docName.conv(channel, 0))).map((m) => m.body)).not.toContain('sync while full')

    freeDisk()
    let recovered = 0
    for (let i = 0; i < 5 && recovered === 0; i++) if ((await post(ada.client, `after ${i}`)).status === 201) recovered++
    expect(recovered).toBe(1)
    expect((await ada.client.get('/health')).status).toBe(200)
    await poll(() => relay.acks > acksBefore)
    provider.destroy()

    // After a restart exactly the acknowledged posts are there, and the index agrees with the doc.
    await server.close()
    server = await start()
    const login = new Client(server.url)
    expect((await login.post('/api/auth/login', { email: 'ada@example.com', password: 'correct horse battery' })).status).toBe(200)
    const listed = await allMessages(login, channel)
    const inDoc = listMessages(await server.gateway.sync.getDoc(docName.conv(channel, 0)))
    expect(new Set(inDoc.map((m) => m.body))).toEqual(new Set(listed))
    expect(listed).toContain('sync while full')
    for (const [body, status] of posted) {
      if (body === 'probe') continue
      expect(listed.includes(body), `${body.slice(0, 12)} answered ${status}`).toBe(status === 201)
    }
  })

  it('read-only storage: the server refuses to start, with a clear reason', async () => {
    freeDisk()
    await server?.close()
    server = null
    // (A running server's open files stay writable through a remount, so the read-only case is
    // the start; a disk that fills while running is the test above.)
    sh('mount', '-o', 'remount,ro', dir)
    try {
      await expect(start()).rejects.toThrow(/DATA_DIR .* cannot be written/)
    } finally {
      sh('mount', '-o', 'remount,rw', dir)
    }
    server = await start()
    const login = new Client(server.url)
    expect((await login.post('/api/auth/login', { email: 'ada@example.com', password: 'correct horse battery' })).status).toBe(200)
    expect((await login.post(`/api/conversations/${channel}/messages`, { bodyMd: 'writable again' })).status).toBe(201)
  })
})

async function allMessages(client: Client, channel: string): Promise<string[]> {
  const out: string[] = []
  let cursor: string | undefined
  for (;;) {
    const res = await client.get(`/api/conversations/${channel}/messages?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    out.push(...res.body.messages.map((m: { bodyMd: string }) => m.bodyMd))
    if (!res.body.nextCursor) return out
    cursor = res.body.nextCursor
  }
}

async function poll(check: () => boolean, ms = 10_000) {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}
