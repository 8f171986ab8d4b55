import { afterAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { docName, tasksOf } from '@circlechat/model'
import { startServer, type RunningServer } from '../server.js'
import { Client, signupAdmin } from '../test/harness.js'

describe('archived tasks over REST', () => {
  let dataDir: string
  let server: RunningServer | null = null
  afterAll(async () => {
    await server?.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  const start = () => startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, boardArchiveDays: 7 })

  it('a done task archived off its board is still read by id and found by search, and is read-only', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cc-archive-'))
    server = await start()
    const ada = await signupAdmin(server.url)
    const task = (await ada.client.post('/api/tasks', { title: 'Ship the archive', bodyMd: 'old news', labels: ['launch'] })).body.task
    expect((await ada.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'shipped it' })).status).toBe(201)
    expect((await ada.client.patch(`/api/tasks/${task.id}`, { status: 'done' })).status).toBe(200)
    // Done 10 days ago (dated by the server: nobody can date an edit back); archived after 7.
    const old = Date.now() - 10 * 86_400_000
    const board = docName.board(ada.workspace.id)
    await server.gateway.sync.transact(board, { source: 'server', reason: 'test' }, (d) => tasksOf(d).get(task.id)!.set('updatedAt', old))
    const before = (await ada.client.get(`/api/tasks/${task.id}`)).body.task
    await server.close()

    // The board is archived when it next loads.
    server = await start()
    const client = new Client(server.url)
    client.cookie = ada.client.cookie
    const doc = await server.gateway.sync.getDoc(board)
    await expect.poll(() => tasksOf(doc).has(task.id)).toBe(false)
    const res = await client.get(`/api/tasks/${task.id}`)
    expect(res.status).toBe(200)
    expect(res.body.task).toEqual(before)
    expect(res.body.task).toMatchObject({ title: 'Ship the archive', status: 'done', comments: [expect.objectContaining({ bodyMd: 'shipped it' })] })
    expect((await client.get('/api/search?q=archive')).body.tasks).toMatchObject([{ taskId: task.id, title: 'Ship the archive', status: 'done' }])
    // Off the board: no list shows it and no write reaches it.
    expect((await client.get('/api/tasks')).body.tasks.map((t: { id: string }) => t.id)).not.toContain(task.id)
    expect((await client.patch(`/api/tasks/${task.id}`, { status: 'backlog' })).status).toBe(404)
    expect((await client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'again' })).status).toBe(404)
    expect((await client.get(`/api/tasks/${task.id}`)).body.task).toEqual(before)
  })
})
