import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { checkCallbackUrl } from '../../src/agents/ssrf.js'
import { openUrl, type UrlCheck } from '../../src/agents/share-files.js'
import { Refused } from '../../src/agents/refusal.js'
import { READ_SCOPE, REPLY_SCOPE, TASKS_SCOPE } from '@circlechat/protocol'
import { FakeAgent, botClient, messagesOf, provision, waitFor, world, type Client, type Provisioned, type World } from './helpers.js'

// share_files (a URL the server fetches, or a path under AGENT_SHARE_DIR) and the file URLs
// agents get in packets, against real servers on loopback.

type Route = (req: IncomingMessage, res: ServerResponse) => void

/** A file server on loopback: each test adds the paths it needs. */
async function fileServer(routes: Record<string, Route>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => (routes[req.url ?? ''] ?? ((_q, r) => r.writeHead(404).end()))(req, res))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

const LIMIT = 64 * 1024
const chart = () => sharp({ create: { width: 40, height: 20, channels: 3, background: '#c60' } }).png().toBuffer()

async function act(bot: Client, action: Record<string, unknown>) {
  const res = await bot.post('/api/agent-api/act', { action })
  expect(res.status).toBe(200)
  return res.body as { ok: boolean; errors: string[]; results: Array<{ result?: { messageId?: string } }> }
}

async function fetchAs(token: string, url: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }
}

describe('share_files', () => {
  let w: World
  let bot: Provisioned
  let agent: Client
  let files: Awaited<ReturnType<typeof fileServer>>
  let shareDir: string
  let outside: string
  let png: Buffer

  beforeAll(async () => {
    shareDir = await mkdtemp(join(tmpdir(), 'cc-share-'))
    outside = await mkdtemp(join(tmpdir(), 'cc-outside-'))
    png = await chart()
    // This test's config allows private URLs, so the loopback file server is reachable.
    w = await world({ maxUploadBytes: LIMIT, agentShareDir: shareDir })
    bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', channelIds: [w.channelId] })
    agent = botClient(w.server.url, bot.botToken)
    files = await fileServer({
      // The type the server claims is ignored: it is sniffed from the bytes.
      '/shots/chart.png': (_q, r) => r.writeHead(200, { 'content-type': 'text/plain', 'content-length': png.length }).end(png),
      '/moved': (_q, r) => r.writeHead(302, { location: '/shots/chart.png' }).end(),
      '/big-declared': (_q, r) => r.writeHead(200, { 'content-length': LIMIT + 1 }).end(Buffer.alloc(LIMIT + 1)),
      '/big-streamed': (_q, r) => {
        r.writeHead(200) // chunked: no length to refuse on, so the stream is cut off
        for (let i = 0; i < 10; i++) r.write(Buffer.alloc(16 * 1024, 1))
        r.end()
      },
      '/gone': (_q, r) => r.writeHead(404).end()
    })
    await writeFile(join(shareDir, 'notes.md'), '# Notes\n')
    await writeFile(join(outside, 'secret.txt'), 'secret')
    await symlink(join(outside, 'secret.txt'), join(shareDir, 'link.txt'))
    execFileSync('mkfifo', [join(shareDir, 'pipe')]) // opening it for reading must not wait for a writer
  })
  afterAll(async () => {
    await files.close()
    await w.server.close()
    await rm(shareDir, { recursive: true, force: true })
    await rm(outside, { recursive: true, force: true })
  })

  it('fetches a URL (through a redirect) and posts it as the agent, with the type sniffed from the bytes', async () => {
    const out = await act(agent, { type: 'share_files', conversation_id: w.channelId, body_md: 'The chart', files: [{ url: `${files.url}/moved` }] })
    expect(out.errors).toEqual([])
    const id = out.results[0]!.result!.messageId
    const msg = (await messagesOf(w.bob.client, w.channelId)).find((m) => m.id === id) as unknown as { memberId: string; bodyMd: string; attachments: Array<{ key: string; name: string; contentType: string; size: number; width: number; height: number; url: string }> }
    expect(msg).toMatchObject({ memberId: bot.memberId, bodyMd: 'The chart' })
    expect(msg.attachments).toEqual([expect.objectContaining({ name: 'chart.png', contentType: 'image/png', size: png.length, width: 40, height: 20 })])
    // A member of the conversation reads it; its bytes are the ones served.
    const got = await fetch(w.server.url + msg.attachments[0]!.url, { headers: { cookie: `cc_session=${w.bob.client.cookie}` } })
    expect(got.status).toBe(200)
    expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true)
  })

  it('refuses a file over MAX_UPLOAD_MB, declared or streamed, and posts nothing', async () => {
    const before = (await messagesOf(w.bob.client, w.channelId)).length
    for (const path of ['/big-declared', '/big-streamed']) {
      const out = await act(agent, { type: 'share_files', conversation_id: w.channelId, body_md: `too big ${path}`, files: [{ url: files.url + path }] })
      expect(out.errors, path).toEqual([expect.stringMatching(/larger than 0\.1 MB|limited to 0\.1 MB/)])
    }
    const failed = await act(agent, { type: 'share_files', conversation_id: w.channelId, files: [{ url: `${files.url}/gone` }] })
    expect(failed.errors).toEqual([expect.stringMatching(/answered 404/)])
    expect((await messagesOf(w.bob.client, w.channelId)).length).toBe(before)
  })

  it('shares a path under AGENT_SHARE_DIR, without text; refuses traversal, absolute paths elsewhere, links out and non-files', async () => {
    const out = await act(agent, { type: 'share_files', conversation_id: w.channelId, files: [{ path: join(shareDir, 'notes.md'), name: 'Launch notes.md' }] })
    expect(out.errors).toEqual([])
    const msg = (await messagesOf(w.bob.client, w.channelId)).find((m) => m.id === out.results[0]!.result!.messageId) as unknown as { bodyMd: string; attachments: Array<{ name: string; contentType: string }> }
    expect(msg).toMatchObject({ bodyMd: '', attachments: [{ name: 'Launch notes.md', contentType: 'text/markdown' }] })
    const refusals: Array<[string, RegExp]> = [
      ['../' + join('..', outside, 'secret.txt'), /outside the share folder/],
      [join(outside, 'secret.txt'), /outside the share folder/],
      ['/etc/passwd', /outside the share folder/],
      ['link.txt', /outside the share folder/],
      ['missing.txt', /no such file/],
      ['pipe', /is not a file/],
      ['.', /is not a file/]
    ]
    for (const [path, reason] of refusals) {
      const refused = await act(agent, { type: 'share_files', conversation_id: w.channelId, body_md: 'x', files: [{ path }] })
      expect(refused.errors, path).toEqual([expect.stringMatching(reason)])
    }
  })

  it('refuses a conversation the agent is not in before fetching anything', async () => {
    let hits = 0
    const counted = await fileServer({ '/a.txt': (_q, r) => (hits++, r.writeHead(200).end('a')) })
    const secret = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'secret' })).body.conversation.id
    const out = await act(agent, { type: 'share_files', conversation_id: secret, files: [{ url: `${counted.url}/a.txt` }] })
    await counted.close()
    expect(out.errors).toEqual([expect.stringMatching(/not a member/)])
    expect(hits).toBe(0)
  })
})

describe('share_to_task', () => {
  let w: World
  let bot: Provisioned
  let agent: Client
  let files: Awaited<ReturnType<typeof fileServer>>
  let shareDir: string
  let png: Buffer
  let taskId: string
  let hidden: string

  beforeAll(async () => {
    shareDir = await mkdtemp(join(tmpdir(), 'cc-share-'))
    png = await chart()
    w = await world({ maxUploadBytes: LIMIT, agentShareDir: shareDir })
    bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', channelIds: [w.channelId], scopes: [READ_SCOPE, REPLY_SCOPE, TASKS_SCOPE] })
    agent = botClient(w.server.url, bot.botToken)
    files = await fileServer({ '/chart.png': (_q, r) => r.writeHead(200, { 'content-length': png.length }).end(png), '/gone': (_q, r) => r.writeHead(404).end() })
    await writeFile(join(shareDir, 'notes.md'), '# Notes\n')
    const task = async (conversationId: string) => (await w.ada.client.post('/api/tasks', { conversationId, title: 'Q3 report' })).body.task.id as string
    taskId = await task(w.channelId)
    hidden = await task((await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true })).body.conversation.id)
  })
  afterAll(async () => {
    await files.close()
    await w.server.close()
    await rm(shareDir, { recursive: true, force: true })
  })

  const commentsOf = async (id: string) => (await w.bob.client.get(`/api/tasks/${id}`)).body.task.comments as Array<{ id: string; memberId: string; bodyMd: string; attachments: Array<{ name: string; contentType: string; size: number; url: string; width?: number }> }>

  it('attaches a fetched URL and a shared path to one new comment as the agent; a member of the board reads them', async () => {
    const out = await act(agent, { type: 'share_to_task', task_id: taskId, body_md: 'progress note', files: [{ url: `${files.url}/chart.png` }, { path: 'notes.md' }] })
    expect(out.errors).toEqual([])
    const id = (out.results[0]!.result as { commentId: string }).commentId
    const comment = (await commentsOf(taskId)).find((c) => c.id === id)!
    expect(comment).toMatchObject({ memberId: bot.memberId, bodyMd: 'progress note' })
    expect(comment.attachments).toEqual([
      expect.objectContaining({ name: 'chart.png', contentType: 'image/png', size: png.length, width: 40 }),
      expect.objectContaining({ name: 'notes.md', contentType: 'text/markdown' })
    ])
    // The relay recorded the comment's files for the channel: a member reads them, an outsider gets 404.
    const got = await waitFor(async () => {
      const res = await fetch(w.server.url + comment.attachments[0]!.url, { headers: { cookie: `cc_session=${w.bob.client.cookie}` } })
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null
    }, 5000, 'readable by a member')
    expect(got.equals(png)).toBe(true)
  })

  it('a file on a private channel\'s task is read by its members only', async () => {
    const ops = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'ops', isPrivate: true, memberIds: [bot.memberId] })).body.conversation.id as string
    const task = (await w.ada.client.post('/api/tasks', { conversationId: ops, title: 'Rotate keys' })).body.task.id as string
    const out = await act(agent, { type: 'share_to_task', task_id: task, files: [{ path: 'notes.md' }] })
    expect(out.errors).toEqual([])
    const url = w.server.url + ((await w.ada.client.get(`/api/tasks/${task}`)).body.task.comments[0].attachments[0].url as string)
    const as = (cookie: string) => fetch(url, { headers: { cookie: `cc_session=${cookie}` } }).then((r) => r.status)
    await waitFor(async () => (await as(w.ada.client.cookie)) === 200, 5000, 'readable by a member')
    expect(await as(w.bob.client.cookie)).toBe(404)
  })

  it('files alone need no text', async () => {
    const out = await act(agent, { type: 'share_to_task', task_id: taskId, files: [{ path: 'notes.md', name: 'Plan.md' }] })
    expect(out.errors).toEqual([])
    const comment = (await commentsOf(taskId)).find((c) => c.id === (out.results[0]!.result as { commentId: string }).commentId)!
    expect(comment).toMatchObject({ bodyMd: '', attachments: [expect.objectContaining({ name: 'Plan.md' })] })
  })

  it('refuses a task the agent cannot see before fetching anything, and comments nothing when a file fails', async () => {
    let hits = 0
    const counted = await fileServer({ '/a.txt': (_q, r) => (hits++, r.writeHead(200).end('a')) })
    const before = (await commentsOf(taskId)).length
    const out = await act(agent, { type: 'share_to_task', task_id: hidden, files: [{ url: `${counted.url}/a.txt` }] })
    await counted.close()
    expect(out.errors).toEqual([expect.stringMatching(`task ${hidden} does not exist, or is on a board you cannot see`)])
    expect(hits).toBe(0)
    const failed = await act(agent, { type: 'share_to_task', task_id: taskId, body_md: 'x', files: [{ path: 'notes.md' }, { url: `${files.url}/gone` }] })
    expect(failed.errors).toEqual([expect.stringMatching(/answered 404/)])
    expect((await commentsOf(taskId)).length).toBe(before)
  })
})

describe('share_files with private URLs not allowed', () => {
  let w: World
  let agent: Client
  let files: Awaited<ReturnType<typeof fileServer>>

  beforeAll(async () => {
    w = await world({ agentAllowPrivateUrls: false })
    const bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', channelIds: [w.channelId] })
    agent = botClient(w.server.url, bot.botToken)
    files = await fileServer({
      '/a.txt': (_q, r) => r.writeHead(200).end('hello'),
      '/to-local': (_q, r) => r.writeHead(302, { location: `http://localhost:${new URL(files.url).port}/a.txt` }).end(),
      '/to-metadata': (_q, r) => r.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-self': (_q, r) => r.writeHead(307, { location: '/a.txt' }).end()
    })
  })
  afterAll(async () => {
    await files.close()
    await w.server.close()
  })

  it('refuses a loopback URL with the SSRF guard, and a path with no AGENT_SHARE_DIR', async () => {
    for (const url of [`${files.url}/a.txt`, `http://localhost:${new URL(files.url).port}/a.txt`, 'http://[::ffff:127.0.0.1]/a.txt']) {
      const out = await act(agent, { type: 'share_files', conversation_id: w.channelId, body_md: 'x', files: [{ url }] })
      expect(out.errors, url).toEqual([expect.stringMatching(/resolves to a private address/)])
    }
    const byPath = await act(agent, { type: 'share_files', conversation_id: w.channelId, body_md: 'x', files: [{ path: '/etc/hostname' }] })
    expect(byPath.errors).toEqual([expect.stringMatching(/AGENT_SHARE_DIR is not set/)])
    expect(await messagesOf(w.bob.client, w.channelId)).toEqual([])
  })

  it('checks every redirect hop: a public first hop cannot lead to a private address', async () => {
    // The file server stands in for a public host: only its own origin passes, as a public one would.
    const hops: string[] = []
    const check: UrlCheck = async (raw) => {
      hops.push(raw)
      return new URL(raw).origin === files.url ? { ok: true, url: new URL(raw) } : checkCallbackUrl(raw, false)
    }
    const limits = { maxBytes: 1024, timeoutMs: 5000, allowPrivate: false }
    for (const path of ['/to-local', '/to-metadata']) {
      hops.length = 0
      const err = await openUrl(files.url + path, check, limits).then(() => null, (e: unknown) => e)
      expect(err, path).toBeInstanceOf(Refused)
      expect((err as Error).message).toMatch(/redirected to .* resolves to a private address/)
      expect(hops).toHaveLength(2)
    }
    const ok = await openUrl(`${files.url}/to-self`, check, limits)
    const body: Buffer[] = []
    for await (const chunk of ok.body) body.push(chunk as Buffer)
    expect(Buffer.concat(body).toString()).toBe('hello')
  })

  it('gives up on a server that stalls, before answering or mid-body', async () => {
    const slow = await fileServer({
      '/silent': () => {},
      '/trickle': (_q, r) => r.writeHead(200).write('the start')
    })
    const limits = { maxBytes: 1024, timeoutMs: 300, allowPrivate: true }
    const check: UrlCheck = (raw) => checkCallbackUrl(raw, true)
    await expect(openUrl(`${slow.url}/silent`, check, limits)).rejects.toThrow(/timed out after/)
    const started = await openUrl(`${slow.url}/trickle`, check, limits)
    await expect((async () => {
      for await (const _ of started.body);
    })()).rejects.toThrow(/timed out after/)
    await slow.close()
  })
})

describe('attachments in packets', () => {
  let w: World
  let hook: FakeAgent
  let bot: Provisioned
  let outsider: Provisioned

  beforeAll(async () => {
    w = await world()
    hook = await new FakeAgent().start()
    bot = await provision(w.ada.client, { name: 'Bot', handle: 'bot', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId] })
    outsider = await provision(w.ada.client, { name: 'Other', handle: 'other', adapter: 'webhook' })
  })
  afterAll(async () => {
    await hook.close()
    await w.server.close()
  })

  it("carry an absolute URL the agent's token fetches; an agent outside the conversation gets 404", async () => {
    const up = (await w.bob.client.upload('/api/uploads', 'plan.txt', 'the plan', 'text/plain')).body
    await w.bob.client.post(`/api/conversations/${w.channelId}/messages`, { bodyMd: '@bot see the plan', attachments: [{ key: up.key }] })
    const { packet } = await waitFor(() => hook.packets.find((p) => p.packet.inbox[0]?.messages.some((m) => m.attachments.length)), 10_000, 'the packet')
    const att = packet.inbox[0]!.messages.find((m) => m.attachments.length)!.attachments[0]!
    expect(att).toMatchObject({ key: up.key, name: 'plan.txt', contentType: 'text/plain', size: 8, url: `${w.server.url}/files/${up.key}` })
    const mine = await fetchAs(bot.botToken, att.url)
    expect(mine.status).toBe(200)
    expect(mine.bytes.toString()).toBe('the plan')
    expect((await fetchAs(outsider.botToken, att.url)).status).toBe(404)
    // The agent REST API's reads say the same.
    const listed = (await botClient(w.server.url, bot.botToken).get(`/api/agent-api/messages?conversationId=${w.channelId}`)).body.messages as Array<{ attachments: Array<{ url: string }> }>
    expect(listed.flatMap((m) => m.attachments)).toEqual([expect.objectContaining({ url: att.url })])
  })

  it("a task comment's files reach the packet's task and my tasks the same way, fetchable with the token", async () => {
    const task = (await w.ada.client.post('/api/tasks', { conversationId: w.channelId, title: 'Review the plan', assignees: [bot.memberId] })).body.task
    const up = (await w.bob.client.upload('/api/uploads', 'draft.txt', 'the draft', 'text/plain')).body
    const comment = (await w.bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'draft attached', attachments: [{ key: up.key }] })).body.comment
    const { packet } = await waitFor(() => hook.packets.find((p) => p.packet.trigger === 'task_comment' && p.packet.triggerCommentId === comment.id), 10_000, 'the task_comment packet')
    const url = `${w.server.url}/files/${up.key}`
    const attachments = [{ key: up.key, name: 'draft.txt', contentType: 'text/plain', size: 9, url }]
    expect(packet.task!.recentComments.at(-1)).toEqual({ id: comment.id, memberId: w.bob.member.id, memberHandle: 'bob', bodyMd: 'draft attached', ts: expect.any(String), attachments })
    expect(packet.myTasks.find((t) => t.id === task.id)!.latestComment).toMatchObject({ bodyMd: 'draft attached', attachments })
    // The same shape as a message's attachments in the inbox.
    const asMessage = packet.inbox.flatMap((e) => e.messages).flatMap((m) => m.attachments)[0]
    expect(Object.keys(asMessage ?? {}).sort()).toEqual(Object.keys(attachments[0]!).sort())
    expect((await fetchAs(bot.botToken, url)).bytes.toString()).toBe('the draft')
    expect((await fetchAs(outsider.botToken, url)).status).toBe(404)
  })
})
