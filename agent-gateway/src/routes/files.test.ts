import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import sharp from 'sharp'
import { files } from '@circlechat/db'
import { startS3rver } from '../test/s3rver.js'
import { collectFiles } from '../services/files.js'
import { Client, addPerson, signupAdmin, startTestServer } from '../test/harness.js'
import { botClient, provision } from '../../test/agents/helpers.js'

/** The bytes and headers of a file URL, as the client (cookie or bot token) gets them. */
async function fetchFile(client: Client, path: string, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers }
  if (client.cookie) h.cookie = `cc_session=${client.cookie}`
  if (client.bearer) h.authorization = `Bearer ${client.bearer}`
  const res = await fetch(client.base + path, { headers: h })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

/** A POST whose headers promise `declared` bytes; resolves with the status once the server answers. */
function postDeclaring(base: string, path: string, cookie: string, declared: number, send: Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base)
    const req = httpRequest({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
      headers: { origin: base, cookie: `cc_session=${cookie}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(declared) }
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.write(send)
  })
}

const backends = [
  { name: 'disk', s3: false },
  { name: 's3 (s3rver on loopback)', s3: true }
]

for (const backend of backends) {
  describe(`file routes on ${backend.name}`, () => {
    let server: Awaited<ReturnType<typeof startTestServer>>
    let s3: Awaited<ReturnType<typeof startS3rver>> | null = null
    let ada: Awaited<ReturnType<typeof signupAdmin>>
    let bob: Awaited<ReturnType<typeof addPerson>>

    beforeAll(async () => {
      s3 = backend.s3 ? await startS3rver() : null
      server = await startTestServer({ maxUploadBytes: 256 * 1024, uploadQuotaBytes: 1024 * 1024, ...(s3 ? { s3: s3.settings } : {}) })
      ada = await signupAdmin(server.url)
      bob = await addPerson(server.url, ada.client, 'bob')
    })
    afterAll(async () => {
      await server.close()
      await s3?.close()
    })

    it('uploads, then serves the bytes whole, by range and with an ETag', async () => {
      const bytes = randomBytes(100_000)
      const up = await ada.client.upload('/api/uploads', 'data.bin', bytes)
      expect(up.status).toBe(201)
      expect(up.body).toEqual({ key: expect.stringMatching(/^f_[a-z2-7]{16}$/), name: 'data.bin', contentType: 'application/octet-stream', size: 100_000, url: `/files/${up.body.key}` })

      const whole = await fetchFile(ada.client, up.body.url)
      expect(whole.status).toBe(200)
      expect(whole.bytes.equals(bytes)).toBe(true)
      expect(whole.headers.get('x-content-type-options')).toBe('nosniff')
      expect(whole.headers.get('accept-ranges')).toBe('bytes')
      expect(whole.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'self'")
      const etag = whole.headers.get('etag')!
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/)

      const part = await fetchFile(ada.client, up.body.url, { range: 'bytes=1000-1999' })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe('bytes 1000-1999/100000')
      expect(part.bytes.equals(bytes.subarray(1000, 2000))).toBe(true)
      const tail = await fetchFile(ada.client, up.body.url, { range: 'bytes=-10' })
      expect(tail.status).toBe(206)
      expect(tail.bytes.equals(bytes.subarray(-10))).toBe(true)
      expect((await fetchFile(ada.client, up.body.url, { range: 'bytes=100000-' })).status).toBe(416)
      expect((await fetchFile(ada.client, up.body.url, { 'if-none-match': etag })).status).toBe(304)
    })

    it('serves a file to nobody but its uploader until it is attached, and never without a credential', async () => {
      const up = await ada.client.upload('/api/uploads', 'notes.txt', 'only mine for now\n')
      expect(up.body.contentType).toBe('text/plain')
      expect((await fetchFile(bob.client, up.body.url)).status).toBe(404)
      expect((await fetchFile(new Client(server.url), up.body.url)).status).toBe(401)
      expect((await fetchFile(bob.client, '/files/f_aaaaaaaaaaaaaaaa')).status).toBe(404)
    })

    it('sniffs the type from the bytes and never serves markup inline, except sandboxed for the viewer', async () => {
      const html = '<!doctype html><html><body><script>parent.owned = true</script></body></html>'
      const up = await ada.client.upload('/api/uploads', 'harmless.txt', html, 'text/plain')
      expect(up.body.contentType).toBe('text/html')
      const plain = await fetchFile(ada.client, up.body.url)
      expect(plain.headers.get('content-disposition')).toMatch(/^attachment;/)
      const view = await fetchFile(ada.client, `${up.body.url}?view=1`)
      expect(view.headers.get('content-disposition')).toMatch(/^inline;/)
      expect(view.headers.get('content-security-policy')).toBe("sandbox; frame-ancestors 'self'")

      const svg = await ada.client.upload('/api/uploads', 'logo.png', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/png')
      expect(svg.body.contentType).toBe('image/svg+xml')
      expect((await fetchFile(ada.client, svg.body.url)).headers.get('content-disposition')).toMatch(/^attachment;/)
      const png = await ada.client.upload('/api/uploads', 'pic.html', await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer(), 'text/html')
      expect(png.body.contentType).toBe('image/png')
    })

    it('keeps names inside their folder: traversal and control characters are stripped', async () => {
      for (const [raw, clean] of [['../../etc/passwd', 'passwd'], ['..\\..\\windows\\win.ini', 'win.ini'], ['...', 'file'], ['a\u202eb\u2066.txt', 'ab.txt'], ['.htaccess', 'htaccess'], ['Résumé ünïcode.pdf', 'Résumé ünïcode.pdf']]) {
        const up = await ada.client.upload('/api/uploads', raw!, 'x')
        expect([raw, up.status, up.body]).toEqual([raw, 201, expect.objectContaining({ name: clean })])
      }
      // A control character cannot even be framed in a part header: a clear 400.
      expect((await ada.client.upload('/api/uploads', 'a\u0007b.txt', 'x')).body).toMatchObject({ error: 'invalid_input' })
      expect(existsSync(join(server.dataDir, '..', 'etc'))).toBe(false)
      expect(existsSync(join(server.dataDir, 'etc'))).toBe(false)
    })

    it('makes a thumbnail with EXIF orientation applied and metadata stripped, and stores the real size', async () => {
      // 40×20 pixels stored, EXIF orientation 6 (a quarter turn): shown as 20×40.
      const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#3a6' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer()
      const up = await ada.client.upload('/api/uploads', 'photo.jpg', jpeg, 'image/jpeg')
      expect(up.body).toMatchObject({ contentType: 'image/jpeg', width: 20, height: 40 })
      const thumb = await fetchFile(ada.client, `${up.body.url}/thumb`)
      expect(thumb.status).toBe(200)
      expect(thumb.headers.get('content-type')).toBe('image/webp')
      const meta = await sharp(thumb.bytes).metadata()
      expect(meta).toMatchObject({ width: 20, height: 40 })
      expect(meta.exif).toBeUndefined()
      expect((await fetchFile(bob.client, `${up.body.url}/thumb`)).status).toBe(404)
    })

    it('refuses an upload over the limit from its Content-Length, before reading the body', async () => {
      // The body is never sent: only an answer given before reading it can arrive.
      const res = await postDeclaring(server.url, '/api/uploads', ada.client.cookie!, 50 * 1024 * 1024, Buffer.from('--x\r\n'))
      expect(res.status).toBe(413)
      expect(res.body).toMatchObject({ error: 'too_large', message: expect.stringContaining('MAX_UPLOAD_MB') })
    })

    it('cuts off an upload that passes the limit while streaming, and keeps nothing', async () => {
      const before = server.gateway.db.select().from(files).all().length
      // A stream without Content-Length (chunked), so only the streaming check can stop it.
      const form = new FormData()
      form.append('file', new Blob([randomBytes(300 * 1024)]), 'big.bin')
      const body = new Response(form)
      const res = await fetch(`${server.url}/api/uploads`, {
        method: 'POST', body: body.body, duplex: 'half',
        headers: { origin: server.url, cookie: `cc_session=${ada.client.cookie}`, 'content-type': body.headers.get('content-type')! }
      } as RequestInit)
      expect(res.status).toBe(413)
      expect((await res.json()).error).toBe('too_large')
      expect(server.gateway.db.select().from(files).all().length).toBe(before)
    })

    it('refuses what is not a multipart upload with one file, with a clear 400', async () => {
      expect((await ada.client.post('/api/uploads', { file: 'x' })).body).toMatchObject({ error: 'invalid_input' })
      const empty = new FormData()
      empty.append('note', 'no file here')
      expect((await ada.client.request('POST', '/api/uploads', empty)).body).toMatchObject({ error: 'no_file' })
      expect((await new Client(server.url).upload('/api/uploads', 'a.txt', 'x')).status).toBe(401)
    })

    it("enforces each member's quota", async () => {
      const cy = await addPerson(server.url, ada.client, `cy${backend.s3 ? 's' : 'd'}`)
      for (let i = 0; i < 4; i++) expect((await cy.client.upload('/api/uploads', `${i}.bin`, randomBytes(250 * 1024))).status).toBe(201)
      const over = await cy.client.upload('/api/uploads', 'more.bin', randomBytes(100 * 1024))
      expect(over.status).toBe(413)
      expect(over.body).toMatchObject({ error: 'quota_exceeded', message: expect.stringContaining('UPLOAD_QUOTA_MB') })
      expect((await bob.client.upload('/api/uploads', 'b.bin', randomBytes(100 * 1024))).status).toBe(201)
    })
  })
}

describe('attached files', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Awaited<ReturnType<typeof signupAdmin>>
  let bob: Awaited<ReturnType<typeof addPerson>>
  let cy: Awaited<ReturnType<typeof addPerson>>
  let channelId: string
  let otherId: string
  const post = (client: Client, body: Record<string, unknown>, conv = channelId) => client.post(`/api/conversations/${conv}/messages`, body)
  const image = () => sharp({ create: { width: 30, height: 10, channels: 3, background: '#09c' } }).png().toBuffer()

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    bob = await addPerson(server.url, ada.client, 'bob')
    cy = await addPerson(server.url, ada.client, 'cy')
    channelId = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'design', isPrivate: true, memberIds: [bob.member.id] })).body.conversation.id
    otherId = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'ops', isPrivate: true, memberIds: [cy.member.id] })).body.conversation.id
  })
  afterAll(() => server.close())

  it("serves an attached file and its thumbnail to the conversation's members only", async () => {
    const up = (await ada.client.upload('/api/uploads', 'mock.png', await image(), 'image/png')).body
    const res = await post(ada.client, { bodyMd: 'the mock', attachments: [{ key: up.key, name: up.name, contentType: up.contentType, size: up.size }] })
    expect(res.status).toBe(201)
    expect(res.body.message.attachments).toEqual([{ key: up.key, name: 'mock.png', contentType: 'image/png', size: up.size, url: up.url, width: 30, height: 10 }])
    for (const path of [up.url, `${up.url}/thumb`]) {
      expect((await fetchFile(bob.client, path)).status).toBe(200)
      expect((await fetchFile(cy.client, path)).status).toBe(404)
    }
  })

  it('refuses a key someone else uploaded, or one that does not exist, and posts nothing', async () => {
    const hers = (await ada.client.upload('/api/uploads', 'secret.txt', 'only ada')).body
    const before = (await bob.client.get(`/api/conversations/${channelId}/messages`)).body.messages.length
    for (const key of [hers.key, 'f_aaaaaaaaaaaaaaaa', '../../etc/passwd']) {
      const res = await post(bob.client, { bodyMd: 'look', attachments: [{ key, name: 'x', contentType: 'text/plain', size: 1 }] })
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_attachment' })
    }
    expect((await bob.client.get(`/api/conversations/${channelId}/messages`)).body.messages.length).toBe(before)
    expect((await fetchFile(bob.client, hers.url)).status).toBe(404)
  })

  it('a thread reply grants the same access; deleting the message hides the file from everyone', async () => {
    const root = (await post(ada.client, { bodyMd: 'thread root' })).body.message
    const up = (await bob.client.upload('/api/uploads', 'reply.txt', 'in the thread')).body
    const reply = (await post(bob.client, { bodyMd: 'in reply', parentId: root.id, attachments: [{ key: up.key }] })).body.message
    expect((await fetchFile(ada.client, up.url)).bytes.toString()).toBe('in the thread')
    expect((await bob.client.delete(`/api/messages/${reply.id}`)).status).toBe(200)
    expect((await fetchFile(ada.client, up.url)).status).toBe(404)
    expect((await fetchFile(bob.client, up.url)).status).toBe(404)
  })

  it("a task comment grants its board's members access, takes only the author's keys, and hides its files when deleted", async () => {
    const task = (await ada.client.post('/api/tasks', { conversationId: channelId, title: 'Mockups' })).body.task
    const up = (await bob.client.upload('/api/uploads', 'mock.png', await image(), 'image/png')).body
    const hers = (await ada.client.upload('/api/uploads', 'hers.txt', 'only ada')).body
    const refused = await bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'look', attachments: [{ key: hers.key }] })
    expect(refused.status).toBe(400)
    expect(refused.body).toMatchObject({ error: 'invalid_attachment' })
    expect((await bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: ' ' })).status).toBe(400)
    // Files alone need no text; name, type, size and url come from the upload record.
    const res = await bob.client.post(`/api/tasks/${task.id}/comments`, { attachments: [{ key: up.key, name: 'renamed.exe', size: 1 }] })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.comment).toMatchObject({ bodyMd: '', attachments: [{ key: up.key, name: 'mock.png', contentType: 'image/png', size: up.size, url: up.url, width: 30, height: 10 }] })
    expect((await ada.client.get(`/api/tasks/${task.id}`)).body.task.comments.at(-1).attachments).toEqual(res.body.comment.attachments)
    for (const path of [up.url, `${up.url}/thumb`]) {
      expect((await fetchFile(ada.client, path)).status).toBe(200)
      expect((await fetchFile(cy.client, path)).status).toBe(404)
    }
    expect((await bob.client.delete(`/api/tasks/${task.id}/comments/${res.body.comment.id}`)).status).toBe(200)
    expect((await fetchFile(ada.client, up.url)).status).toBe(404)
    expect((await fetchFile(bob.client, up.url)).status).toBe(404)
  })

  it("an edit of a comment changes its files: the author's own only, and a file taken off stops granting access", async () => {
    const task = (await ada.client.post('/api/tasks', { conversationId: channelId, title: 'Specs' })).body.task
    const first = (await bob.client.upload('/api/uploads', 'v1.txt', 'first draft')).body
    const second = (await bob.client.upload('/api/uploads', 'v2.txt', 'second draft')).body
    const hers = (await ada.client.upload('/api/uploads', 'hers.txt', 'only ada')).body
    const c = (await bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'spec', attachments: [{ key: first.key }] })).body.comment
    const edit = (client: Client, body: unknown) => client.patch(`/api/tasks/${task.id}/comments/${c.id}`, body)

    const foreign = await edit(bob.client, { attachments: [{ key: first.key }, { key: hers.key }] })
    expect(foreign.status).toBe(400)
    expect(foreign.body).toMatchObject({ error: 'invalid_attachment' })
    expect((await edit(ada.client, { attachments: [] })).status).toBe(403) // not the author
    expect((await edit(bob.client, {})).status).toBe(400)

    const swapped = await edit(bob.client, { attachments: [{ key: second.key, name: 'ignored.exe' }] })
    expect(swapped.status, JSON.stringify(swapped.body)).toBe(200)
    expect(swapped.body.comment).toMatchObject({ bodyMd: 'spec', editedAt: expect.any(Number), attachments: [{ key: second.key, name: 'v2.txt', url: second.url }] })
    expect((await ada.client.get(`/api/tasks/${task.id}`)).body.task.comments.at(-1).attachments.map((a: { key: string }) => a.key)).toEqual([second.key])
    expect((await fetchFile(ada.client, second.url)).bytes.toString()).toBe('second draft')
    // Taken off the only comment that attached it: no one else may read it any more.
    expect((await fetchFile(ada.client, first.url)).status).toBe(404)
    const listed = (await ada.client.get(`/api/files?conversationId=${channelId}`)).body.files.map((f: { key: string }) => f.key)
    expect(listed).toContain(second.key)
    expect(listed).not.toContain(first.key)

    // Files alone need no text; text and files both gone is a delete, not an edit.
    expect((await edit(bob.client, { bodyMd: '' })).body.comment).toMatchObject({ bodyMd: '', attachments: [{ key: second.key }] })
    expect((await edit(bob.client, { attachments: [] })).status).toBe(400)
    expect((await edit(bob.client, { bodyMd: 'text only', attachments: [] })).body.comment).toMatchObject({ bodyMd: 'text only', attachments: [] })
    expect((await fetchFile(ada.client, second.url)).status).toBe(404)
  })

  it("lists a comment's file with its task and comment, to the board's members only", async () => {
    const task = (await ada.client.post('/api/tasks', { conversationId: channelId, title: 'Logo' })).body.task
    const up = (await bob.client.upload('/api/uploads', 'logo-on-task.png', await image(), 'image/png')).body
    const c = (await bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'logo', attachments: [{ key: up.key }] })).body.comment
    const msg = (await post(ada.client, { bodyMd: 'in chat', attachments: [{ key: (await ada.client.upload('/api/uploads', 'chat-file.txt', 'hi')).body.key }] })).body.message

    const listed = (await ada.client.get('/api/files?q=logo-on-task')).body.files
    expect(listed).toEqual([expect.objectContaining({ key: up.key, conversationId: channelId, messageId: null, taskId: task.id, commentId: c.id })])
    expect((await ada.client.get('/api/files?q=chat-file')).body.files).toEqual([expect.objectContaining({ messageId: msg.id, taskId: null, commentId: null })])
    expect((await cy.client.get('/api/files?q=logo-on-task')).body.files).toEqual([])
    expect((await cy.client.get(`/api/files?conversationId=${channelId}`)).status).toBe(200)
    expect((await cy.client.get(`/api/files?conversationId=${channelId}`)).body.files).toEqual([])
  })

  it('lists the files of my conversations, newest first, by conversation, kind and name', async () => {
    const pdf = (await cy.client.upload('/api/uploads', 'Quarterly report.pdf', '%PDF-1.4\n%%EOF\n')).body
    await post(cy.client, { bodyMd: 'report', attachments: [{ key: pdf.key }] }, otherId)
    const unattached = (await ada.client.upload('/api/uploads', 'draft.txt', 'not sent')).body

    const mine = (await ada.client.get('/api/files')).body.files as Array<{ key: string; kind: string; conversationId: string; messageId: string; createdAt: number }>
    expect(mine[0]).toMatchObject({ key: pdf.key, kind: 'pdf', conversationId: otherId, name: 'Quarterly report.pdf', url: pdf.url, thumbUrl: null, memberId: cy.member.id })
    expect(mine.map((f) => f.createdAt)).toEqual([...mine.map((f) => f.createdAt)].sort((a, b) => b - a))
    expect(mine.some((f) => f.key === unattached.key)).toBe(false)
    expect(mine.find((f) => f.kind === 'image')).toMatchObject({ conversationId: channelId, thumbUrl: expect.stringMatching(/\/thumb$/), width: 30, height: 10 })

    const bobs = (await bob.client.get('/api/files')).body.files as Array<{ key: string }>
    expect(bobs.some((f) => f.key === pdf.key)).toBe(false)
    expect((await ada.client.get(`/api/files?conversationId=${otherId}`)).body.files.map((f: { key: string }) => f.key)).toEqual([pdf.key])
    expect((await ada.client.get('/api/files?kind=image')).body.files.every((f: { kind: string }) => f.kind === 'image')).toBe(true)
    expect((await ada.client.get('/api/files?q=quarterly')).body.files.map((f: { key: string }) => f.key)).toEqual([pdf.key])
    expect((await ada.client.get('/api/files?q=100%25')).body.files).toEqual([])
    expect((await ada.client.get('/api/files?kind=nope')).status).toBe(400)
  })

  it('agents upload with their token, attach only their own files, and fetch what they may see', async () => {
    const bot = await provision(ada.client, { name: 'Filer', handle: 'filer', adapter: 'socket', channelIds: [channelId] })
    const agent = botClient(server.url, bot.botToken)
    const up = await agent.upload('/api/agent-api/uploads', 'summary.md', '# Summary\n')
    expect(up.status).toBe(201)
    expect(up.body).toMatchObject({ name: 'summary.md', contentType: 'text/markdown', url: `/files/${up.body.key}` })
    const posted = await agent.post('/api/agent-api/post_message', { conversationId: channelId, bodyMd: 'the summary', attachments: [{ key: up.body.key, name: 'summary.md', contentType: 'text/markdown', size: up.body.size }] })
    expect(posted.body).toMatchObject({ ok: true })
    expect((await fetchFile(bob.client, up.body.url)).bytes.toString()).toBe('# Summary\n')
    expect((await fetchFile(agent, up.body.url)).status).toBe(200)

    const hers = (await ada.client.upload('/api/uploads', 'not-yours.txt', 'x')).body
    const refused = await agent.post('/api/agent-api/post_message', { conversationId: channelId, bodyMd: 'stolen', attachments: [{ key: hers.key }] })
    expect(JSON.stringify(refused.body)).toContain('not a file you uploaded')
    expect((await fetchFile(agent, hers.url)).status).toBe(404)
    // A person's cookie is not an agent: the agent upload route is bearer-only.
    expect((await ada.client.upload('/api/agent-api/uploads', 'a.txt', 'x')).status).toBe(403)
  })
})

describe('the file collector', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>
  let ada: Awaited<ReturnType<typeof signupAdmin>>
  let channelId: string
  const DAY = 24 * 60 * 60_000

  beforeAll(async () => {
    server = await startTestServer()
    ada = await signupAdmin(server.url)
    channelId = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'gc' })).body.conversation.id
  })
  afterAll(() => server.close())

  const attach = async (key: string) => (await ada.client.post(`/api/conversations/${channelId}/messages`, { bodyMd: 'file', attachments: [{ key }] })).body.message
  const shaOf = (key: string) => server.gateway.db.select().from(files).all().find((f) => f.key === key)?.sha256
  const blobExists = async (sha: string) => (await server.gateway.blobs.head(sha)) !== null

  it('removes uploads nobody can reach and the blobs no record names, and keeps the rest', async () => {
    const draft = (await ada.client.upload('/api/uploads', 'draft.txt', 'never sent')).body
    const gone = (await ada.client.upload('/api/uploads', 'gone.txt', 'shared bytes')).body
    const twin = (await ada.client.upload('/api/uploads', 'twin.txt', 'shared bytes')).body
    const kept = (await ada.client.upload('/api/uploads', 'kept.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer(), 'image/png')).body
    const [draftSha, goneSha, keptSha] = [shaOf(draft.key)!, shaOf(gone.key)!, shaOf(kept.key)!]
    expect(shaOf(twin.key)).toBe(goneSha)
    const deleted = await attach(gone.key)
    await attach(twin.key)
    await attach(kept.key)
    await ada.client.delete(`/api/messages/${deleted.id}`)

    // Today: only the deleted message's file goes; its bytes stay, the twin upload still names them.
    expect(await collectFiles(server.gateway)).toEqual({ files: 1, blobs: 0 })
    expect(shaOf(gone.key)).toBeUndefined()
    expect(await blobExists(goneSha)).toBe(true)
    expect(await blobExists(draftSha)).toBe(true)

    // A week on, the draft was never attached: it goes, with its bytes.
    expect(await collectFiles(server.gateway, Date.now() + 8 * DAY)).toEqual({ files: 1, blobs: 1 })
    expect(await blobExists(draftSha)).toBe(false)
    expect((await fetchFile(ada.client, twin.url)).bytes.toString()).toBe('shared bytes')
    expect((await fetchFile(ada.client, `${kept.url}/thumb`)).status).toBe(200)
    expect(await blobExists(keptSha)).toBe(true)
    expect(await collectFiles(server.gateway, Date.now() + 8 * DAY)).toEqual({ files: 0, blobs: 0 })
  })
})
