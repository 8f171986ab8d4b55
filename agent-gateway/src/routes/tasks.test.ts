import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { activityOfTask, addComment, docName, findTask, listComments, meTaskMentionsOf, readTask } from '@circlechat/model'
import { Client, startTeam, type Team } from '../test/harness.js'
import { syncClient, whenSynced } from '../test/sync-client.js'

type Person = { client: Client; member: { id: string; handle: string } }

describe('task routes', () => {
  let server: Team['server']
  let ada: Person & { workspace: { id: string } }
  let bob: Person, cy: Person
  let eng: string, secret: string

  const create = async (who: Person, body: Record<string, unknown>) => {
    const res = await who.client.post('/api/tasks', body)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body.task
  }
  const board = (scope: string) => server.gateway.sync.getDoc(docName.board(scope))

  beforeAll(async () => {
    ;({ server, ada, bob, cy } = await startTeam())
    eng = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'eng', memberIds: [bob.member.id] })).body.conversation.id
    secret = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true })).body.conversation.id
  })
  afterAll(async () => {
    await server?.close()
  })

  it('creates a task on a conversation board as one server-authored edit with activity', async () => {
    const task = await create(bob, {
      conversationId: eng, title: '  Ship the board  ', bodyMd: 'Details **here**', status: 'in_progress',
      assignees: [ada.member.id, bob.member.id], labels: ['launch', 'web'], dueAt: '2027-01-02T03:04:05Z'
    })
    expect(task).toMatchObject({
      conversationId: eng, conversationName: 'eng', title: 'Ship the board', bodyMd: 'Details **here**', status: 'in_progress',
      blocked: false, progress: 0, dueAt: Date.parse('2027-01-02T03:04:05Z'), labels: ['launch', 'web'], parentId: null,
      createdBy: bob.member.id, source: null, commentCount: 0, links: [], subtasks: [], comments: []
    })
    expect(task.id).toMatch(/^task_/)
    expect(new Set(task.assignees)).toEqual(new Set([ada.member.id, bob.member.id]))
    expect(new Set(task.assigneeHandles)).toEqual(new Set(['ada', 'bob']))
    expect(task.activity).toMatchObject([{ memberId: bob.member.id, memberHandle: 'bob', field: 'created' }])

    const doc = await board(eng)
    expect(readTask(findTask(doc, task.id)!)).toMatchObject({ title: 'Ship the board', createdBy: bob.member.id })
    // New labels joined the board's palette with a colour.
    expect(doc.getMap('labels').get('launch')).toEqual(expect.any(String))
    expect((await ada.client.get(`/api/tasks/${task.id}`)).body.task).toEqual(task)
  })

  it('defaults to the workspace board, which every member reads', async () => {
    const task = await create(cy, { title: 'Workspace chores' })
    expect(task).toMatchObject({ conversationId: null, conversationName: null, status: 'backlog' })
    expect(findTask(await board(ada.workspace.id), task.id)).not.toBeNull()
    expect((await bob.client.get(`/api/tasks/${task.id}`)).status).toBe(200)
    const listed = await bob.client.get(`/api/tasks?conversationId=${ada.workspace.id}`)
    expect(listed.body.tasks.map((t: { id: string }) => t.id)).toContain(task.id)
  })

  it('refuses bad input with 400 {error, message}', async () => {
    const bad = async (body: unknown, path = '/api/tasks') => {
      const res = await bob.client.post(path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(400)
      expect(res.body).toEqual({ error: expect.any(String), message: expect.any(String) })
      return res.body
    }
    await bad({})
    await bad({ title: '   ' })
    await bad({ title: 'x'.repeat(501) })
    await bad({ title: 'ok', status: 'doing' })
    await bad({ title: 'ok', labels: ['a\nb'] })
    await bad({ title: 'ok', labels: ['x'.repeat(41)] })
    await bad({ title: 'ok', dueAt: 'tomorrow' })
    await bad({ title: 'ok', progress: 101 })
    await bad({ title: 'ok', progress: 1.5 })
    await bad({ title: 'ok', assignees: 'bob' })
    await bad('{not json')
    // An assignee outside the conversation.
    expect((await bad({ conversationId: eng, title: 'ok', assignees: [cy.member.id] })).error).toBe('unknown_member')
    const parentless = await bad({ conversationId: eng, title: 'ok', parentId: 'task_aaaaaaaaaaaaaaaa' })
    expect(parentless.error).toBe('parent_not_found')

    const t = await create(bob, { conversationId: eng, title: 'patch me' })
    const patch = (body: unknown) => bob.client.request('PATCH', `/api/tasks/${t.id}`, body)
    for (const body of [{}, { progress: -1 }, { position: 'not a key!' }, { blocked: 'yes' }, { title: '' }, { parentId: t.id }]) {
      const res = await patch(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message).toEqual(expect.any(String))
    }
    expect((await bob.client.post(`/api/tasks/${t.id}/links`, { linkedTaskId: t.id, kind: 'blocks' })).status).toBe(400)
    expect((await bob.client.post(`/api/tasks/${t.id}/links`, { linkedTaskId: t.id, kind: 'owns' })).status).toBe(400)
    expect((await bob.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: '  ' })).status).toBe(400)
    expect((await bob.client.request('PUT', `/api/tasks/${t.id}/labels`, { labels: Array.from({ length: 21 }, (_, i) => `l${i}`) })).status).toBe(400)
  })

  it('hides tasks from non-members: 404 on every route, absent from lists', async () => {
    const hidden = await create(ada, { conversationId: secret, title: 'Hidden plans' })
    const id = hidden.id
    const c = cy.client
    const statuses = [
      (await c.get(`/api/tasks/${id}`)).status,
      (await c.patch(`/api/tasks/${id}`, { status: 'done' })).status,
      (await c.delete(`/api/tasks/${id}`)).status,
      (await c.post(`/api/tasks/${id}/assignees`, { memberId: cy.member.id })).status,
      (await c.delete(`/api/tasks/${id}/assignees/${ada.member.id}`)).status,
      (await c.request('PUT', `/api/tasks/${id}/labels`, { labels: ['x'] })).status,
      (await c.post(`/api/tasks/${id}/links`, { linkedTaskId: id, kind: 'relates' })).status,
      (await c.post(`/api/tasks/${id}/comments`, { bodyMd: 'hi' })).status,
      (await c.get(`/api/tasks/task_aaaaaaaaaaaaaaaa`)).status,
      (await c.get(`/api/tasks/not-an-id`)).status
    ]
    expect(statuses).toEqual(Array(statuses.length).fill(404))
    expect((await c.get(`/api/tasks/${id}`)).body.error).toBe('task_not_found')
    expect((await c.get(`/api/tasks?conversationId=${secret}`)).status).toBe(404)
    expect((await c.post('/api/tasks', { conversationId: secret, title: 'sneak' })).status).toBe(404)
    expect((await c.get('/api/tasks')).body.tasks.map((t: { id: string }) => t.id)).not.toContain(id)
    // Linking to a task one cannot see is the same 404.
    const mine = await create(cy, { title: 'mine' })
    expect((await c.post(`/api/tasks/${mine.id}/links`, { linkedTaskId: id, kind: 'blocks' })).status).toBe(404)
    // Nothing changed.
    expect((await ada.client.get(`/api/tasks/${id}`)).body.task).toMatchObject({ status: 'backlog', commentCount: 0, links: [] })
    // Signed out: 401.
    expect((await new Client(server.url).get('/api/tasks')).status).toBe(401)
  })

  it('patches fields, moves columns and records each change as activity', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Movable' })
    const other = await create(bob, { conversationId: eng, title: 'Already in review', status: 'review' })
    const res = await ada.client.patch(`/api/tasks/${t.id}`, { status: 'review', blocked: true, progress: 40, dueAt: 1_900_000_000_000, title: 'Moved', bodyMd: 'now with words' })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.task).toMatchObject({ status: 'review', blocked: true, progress: 40, dueAt: 1_900_000_000_000, title: 'Moved', bodyMd: 'now with words' })
    // A column change without a position lands at the column's end.
    expect(res.body.task.position > other.position).toBe(true)
    const fields = res.body.task.activity.filter((a: { memberId: string }) => a.memberId === ada.member.id).map((a: { field: string }) => a.field)
    expect(new Set(fields)).toEqual(new Set(['status', 'blocked', 'progress', 'dueAt', 'title']))
    const cleared = await ada.client.patch(`/api/tasks/${t.id}`, { dueAt: null, position: 'a0V' })
    expect(cleared.body.task).toMatchObject({ dueAt: null, position: 'a0V' })

    // Subtasks: parent on the same board, no cycles, listed on the parent.
    const child = await create(bob, { conversationId: eng, title: 'child', parentId: t.id })
    expect(child.parentId).toBe(t.id)
    expect((await bob.client.get(`/api/tasks/${t.id}`)).body.task.subtasks).toEqual([{ id: child.id, title: 'child', status: 'backlog', assignees: [] }])
    expect((await bob.client.patch(`/api/tasks/${t.id}`, { parentId: child.id })).body.error).toBe('invalid_parent')
    const elsewhere = await create(bob, { title: 'on the workspace board' })
    expect((await bob.client.patch(`/api/tasks/${child.id}`, { parentId: elsewhere.id })).body.error).toBe('parent_not_found')
    expect((await bob.client.patch(`/api/tasks/${child.id}`, { parentId: null })).body.task.parentId).toBeNull()
  })

  it('soft-deletes: gone from reads, kept in the doc', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Doomed' })
    expect((await bob.client.delete(`/api/tasks/${t.id}`)).status).toBe(200)
    expect((await bob.client.get(`/api/tasks/${t.id}`)).status).toBe(404)
    expect((await bob.client.get('/api/tasks')).body.tasks.map((x: { id: string }) => x.id)).not.toContain(t.id)
    const map = (await board(eng)).getMap('tasks').get(t.id) as Y.Map<unknown>
    expect(map.get('deleted')).toBe(true)
    expect(activityOfTask(await board(eng), t.id).map((e) => e.field)).toEqual(['created', 'deleted'])
    expect((await bob.client.delete(`/api/tasks/${t.id}`)).status).toBe(404)
  })

  it('assigns, unassigns and sets labels', async () => {
    const t = await create(bob, { conversationId: eng, title: 'People' })
    const assigned = await bob.client.post(`/api/tasks/${t.id}/assignees`, { memberId: ada.member.id })
    expect(assigned.status).toBe(200)
    expect(assigned.body.task.assignees).toEqual([ada.member.id])
    expect((await bob.client.post(`/api/tasks/${t.id}/assignees`, { memberId: ada.member.id })).body.task.assignees).toEqual([ada.member.id])
    expect((await bob.client.post(`/api/tasks/${t.id}/assignees`, { memberId: cy.member.id })).body.error).toBe('unknown_member')
    const un = await bob.client.delete(`/api/tasks/${t.id}/assignees/${ada.member.id}`)
    expect(un.body.task.assignees).toEqual([])
    const activity = un.body.task.activity.map((a: { field: string; to: unknown }) => [a.field, a.to])
    expect(activity).toEqual([['created', 'People'], ['assignees', [ada.member.id]], ['assignees', []]])

    const labelled = await bob.client.request('PUT', `/api/tasks/${t.id}/labels`, { labels: ['bug', 'urgent', 'bug'] })
    expect(labelled.body.task.labels).toEqual(['bug', 'urgent'])
    expect((await bob.client.request('PUT', `/api/tasks/${t.id}/labels`, { labels: ['urgent'] })).body.task.labels).toEqual(['urgent'])
    expect((await board(eng)).getMap('labels').has('bug')).toBe(true)
  })

  it('links tasks and shows both directions, also across boards', async () => {
    const a = await create(bob, { conversationId: eng, title: 'Blocker' })
    const b = await create(bob, { title: 'Blocked (workspace board)' })
    const res = await bob.client.post(`/api/tasks/${a.id}/links`, { linkedTaskId: b.id, kind: 'blocks' })
    expect(res.status).toBe(201)
    const link = res.body.task.links[0]
    expect(res.body.task.links).toEqual([{ id: expect.stringMatching(/^lnk_/), taskId: b.id, kind: 'blocks', direction: 'outgoing', title: b.title, status: 'backlog' }])
    const other = (await ada.client.get(`/api/tasks/${b.id}`)).body.task
    expect(other.links).toEqual([{ id: link.id, taskId: a.id, kind: 'blocks', direction: 'incoming', title: 'Blocker', status: 'backlog' }])
    // Linking the same pair the same way twice keeps one link.
    expect((await bob.client.post(`/api/tasks/${a.id}/links`, { linkedTaskId: b.id, kind: 'blocks' })).body.task.links).toHaveLength(1)
    // cy cannot read `a` (not in #eng): the incoming side is not shown to him.
    expect((await cy.client.get(`/api/tasks/${b.id}`)).body.task.links).toEqual([])
    // Removed from the incoming side: the link lives on `a`.
    const removed = await ada.client.delete(`/api/tasks/${b.id}/links/${link.id}`)
    expect(removed.status).toBe(200)
    expect(removed.body.task.links).toEqual([])
    const after = (await bob.client.get(`/api/tasks/${a.id}`)).body.task
    expect(after.links).toEqual([])
    expect(after.activity.map((e: { field: string; memberId: string }) => [e.field, e.memberId])).toEqual([['created', bob.member.id], ['linked', bob.member.id], ['unlinked', ada.member.id]])
    expect((await bob.client.delete(`/api/tasks/${a.id}/links/${link.id}`)).status).toBe(404)
  })

  it('comments: anyone on the board comments; only the author edits; author or admin deletes', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Talk about it' })
    const posted = await bob.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: 'hey @ada, look' })
    expect(posted.status).toBe(201)
    const c = posted.body.comment
    expect(c).toMatchObject({ taskId: t.id, memberId: bob.member.id, memberHandle: 'bob', bodyMd: 'hey @ada, look', mentions: [ada.member.id], editedAt: null })
    expect(c.id).toMatch(/^tcom_/)
    expect(listComments(await board(eng), t.id).map((x) => x.id)).toEqual([c.id])

    expect((await ada.client.patch(`/api/tasks/${t.id}/comments/${c.id}`, { bodyMd: 'hijack' })).status).toBe(403)
    const edited = await bob.client.patch(`/api/tasks/${t.id}/comments/${c.id}`, { bodyMd: 'edited' })
    expect(edited.status).toBe(200)
    expect(edited.body.comment).toMatchObject({ bodyMd: 'edited', mentions: [], editedAt: expect.any(Number) })
    const task = (await ada.client.get(`/api/tasks/${t.id}`)).body.task
    expect(task).toMatchObject({ commentCount: 1, comments: [{ id: c.id, bodyMd: 'edited' }], recentComments: [{ id: c.id }] })
    expect(task.activity.map((a: { field: string }) => a.field)).toEqual(['created', 'commented'])

    // Another member may not delete it; an admin may.
    const byCarol = await bob.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: 'second' })
    expect((await cy.client.delete(`/api/tasks/${t.id}/comments/${byCarol.body.comment.id}`)).status).toBe(404) // not in #eng
    expect((await ada.client.delete(`/api/tasks/${t.id}/comments/${c.id}`)).status).toBe(200)
    const ws = await create(cy, { title: 'ws comment rules' })
    const cys = (await cy.client.post(`/api/tasks/${ws.id}/comments`, { bodyMd: 'mine' })).body.comment
    expect((await bob.client.delete(`/api/tasks/${ws.id}/comments/${cys.id}`)).status).toBe(403)
    expect((await cy.client.delete(`/api/tasks/${ws.id}/comments/${cys.id}`)).status).toBe(200)
    expect((await cy.client.patch(`/api/tasks/${ws.id}/comments/${cys.id}`, { bodyMd: 'again' })).status).toBe(409)
    // A comment id of another task is not this task's comment.
    expect((await bob.client.patch(`/api/tasks/${t.id}/comments/${cys.id}`, { bodyMd: 'x' })).status).toBe(404)
    expect((await ada.client.get(`/api/tasks/${t.id}`)).body.task.comments.map((x: { id: string }) => x.id)).toEqual([byCarol.body.comment.id])
  })

  it('a mention in a comment reaches the mentioned people who can read the board', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Mentions' })
    const mentionsOf = async (who: Person) => meTaskMentionsOf(await server.gateway.sync.getDoc(docName.me(who.member.id))).toJSON()
    const c = (await bob.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: '@ada and @cy, have a look' })).body.comment
    expect(c.mentions).toEqual(expect.arrayContaining([ada.member.id, cy.member.id]))
    // Told through the board feed, just after the comment is stored.
    await expect.poll(async () => (await mentionsOf(ada))[c.id]).toEqual({ taskId: t.id, commentId: c.id, conversationId: eng, by: bob.member.id, at: c.createdAt })
    // @channel tells everyone on the board but the author; an edit adding a mention tells the new one.
    const all = (await ada.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: 'ping @channel' })).body.comment
    await expect.poll(async () => (await mentionsOf(bob))[all.id]).toMatchObject({ by: ada.member.id })
    expect((await mentionsOf(ada))[all.id]).toBeUndefined()
    // cy is not in #eng: he cannot read the task, so he is not told about it.
    expect((await mentionsOf(cy))[c.id]).toBeUndefined()
    const quiet = (await ada.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: 'no one yet' })).body.comment
    expect((await mentionsOf(bob))[quiet.id]).toBeUndefined()
    const edited = (await ada.client.patch(`/api/tasks/${t.id}/comments/${quiet.id}`, { bodyMd: 'now @bob' })).body.comment
    expect((await mentionsOf(bob))[quiet.id]).toMatchObject({ at: edited.editedAt })
  })

  it('a comment written into the board doc, as the web app does, tells the people it mentions', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Doc mentions' })
    const doc = new Y.Doc()
    const provider = syncClient(server.url, bob.client.cookie!, docName.board(eng), doc)
    try {
      await whenSynced(provider)
      const id = addComment(doc, { taskId: t.id, author: bob.member.id, body: '@ada over to you', mentions: [ada.member.id] })
      const me = await server.gateway.sync.getDoc(docName.me(ada.member.id))
      await expect.poll(() => meTaskMentionsOf(me).get(id)).toMatchObject({ taskId: t.id, conversationId: eng, by: bob.member.id })
    } finally {
      provider.destroy()
    }
  })

  it('creates a task from a message the caller can read', async () => {
    const msg = (await bob.client.post(`/api/conversations/${eng}/messages`, { bodyMd: 'we should fix login' })).body.message
    const t = await create(bob, { title: 'Fix login', source: { conversationId: eng, messageId: msg.id } })
    // Without a conversationId the task goes to the message's conversation.
    expect(t).toMatchObject({ conversationId: eng, source: { conversationId: eng, messageId: msg.id } })
    const res = await cy.client.post('/api/tasks', { title: 'steal', source: { conversationId: eng, messageId: msg.id } })
    expect(res.status).toBe(404)
    const wrongConv = await bob.client.post('/api/tasks', { title: 'x', source: { conversationId: secret, messageId: msg.id } })
    expect(wrongConv.status).toBe(404)
  })

  it('lists with filters and answers my-tasks, freshest first, open only', async () => {
    const conv = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'mine', memberIds: [cy.member.id] })).body.conversation.id
    const one = await create(cy, { conversationId: conv, title: 'one', assignees: [cy.member.id] })
    const two = await create(cy, { conversationId: conv, title: 'two', assignees: [cy.member.id], status: 'review' })
    const done = await create(cy, { conversationId: conv, title: 'done', assignees: [cy.member.id], status: 'done' })
    await create(cy, { conversationId: conv, title: 'nobody' })
    await cy.client.patch(`/api/tasks/${one.id}`, { progress: 10 })

    const listed = await cy.client.get(`/api/tasks?conversationId=${conv}`)
    expect(listed.body.tasks.map((t: { title: string }) => t.title)).toEqual(['one', 'nobody', 'two', 'done'])
    const filtered = await cy.client.get(`/api/tasks?conversationId=${conv}&assignee=${cy.member.id}&status=review`)
    expect(filtered.body.tasks.map((t: { id: string }) => t.id)).toEqual([two.id])
    expect((await cy.client.get('/api/tasks?status=nope')).status).toBe(400)

    const mine = await cy.client.get('/api/my-tasks')
    expect(mine.status).toBe(200)
    const ids = mine.body.tasks.map((t: { id: string }) => t.id)
    expect(ids.slice(0, 2)).toEqual([one.id, two.id])
    expect(ids).not.toContain(done.id)
    expect(mine.body.tasks.every((t: { assignees: string[] }) => t.assignees.includes(cy.member.id))).toBe(true)
  })

  it('search finds tasks by title, description and comments, never on a board one cannot read', async () => {
    const open = await create(bob, { conversationId: eng, title: 'Quokka migration', bodyMd: 'move the <b>wombat</b> service' })
    await bob.client.post(`/api/tasks/${open.id}/comments`, { bodyMd: 'remember the platypus' })
    const hidden = await create(ada, { conversationId: secret, title: 'Quokka secrets' })
    const ws = await create(cy, { title: 'Quokka party' })
    const taskIds = async (who: Person, q: string) => {
      const res = await who.client.get(`/api/search?q=${encodeURIComponent(q)}`)
      expect(res.status).toBe(200)
      expect(res.body.results).toEqual(expect.any(Array)) // the messages part is unchanged
      return res.body.tasks.map((t: { taskId: string }) => t.taskId)
    }
    expect(new Set(await taskIds(bob, 'quokka'))).toEqual(new Set([open.id, ws.id]))
    expect(new Set(await taskIds(ada, 'quokka'))).toEqual(new Set([open.id, ws.id, hidden.id]))
    expect(await taskIds(cy, 'quokka')).toEqual([ws.id])
    expect(await taskIds(bob, 'wombat')).toEqual([open.id])
    expect(await taskIds(bob, 'platypus')).toEqual([open.id])
    expect(await taskIds(cy, 'platypus')).toEqual([])
    const hit = (await bob.client.get('/api/search?q=wombat')).body.tasks[0]
    expect(hit).toMatchObject({ taskId: open.id, conversationId: eng, title: 'Quokka migration', status: 'backlog' })
    expect(hit.snippet).toContain('<mark>wombat</mark>')
    expect(hit.snippet).not.toContain('<b>')
    // Deleted tasks and tasks of a conversation one left drop out.
    await bob.client.delete(`/api/tasks/${ws.id}`)
    expect(await taskIds(cy, 'quokka')).toEqual([])
    await bob.client.post(`/api/tasks/${open.id}/assignees`, { memberId: bob.member.id })
    expect((await bob.client.get('/api/my-tasks')).body.tasks.map((t: { id: string }) => t.id)).toContain(open.id)
    expect((await bob.client.post(`/api/conversations/${eng}/leave`)).status).toBe(200)
    expect(await taskIds(bob, 'quokka')).toEqual([])
    expect((await bob.client.get(`/api/tasks/${open.id}`)).status).toBe(404)
    expect((await bob.client.get('/api/my-tasks')).body.tasks.map((t: { id: string }) => t.id)).not.toContain(open.id)
    expect((await bob.client.get('/api/tasks')).body.tasks.map((t: { id: string }) => t.id)).not.toContain(open.id)
    expect((await bob.client.post(`/api/tasks/${open.id}/comments`, { bodyMd: 'still here?' })).status).toBe(404)
    await ada.client.post(`/api/conversations/${eng}/members`, { memberIds: [bob.member.id] })
    expect(await taskIds(bob, 'quokka')).toEqual([open.id])
  })

  it('a REST edit reaches a synced Yjs client of the board doc', async () => {
    const t = await create(bob, { conversationId: eng, title: 'Live' })
    const doc = new Y.Doc()
    const provider = syncClient(server.url, bob.client.cookie!, docName.board(eng), doc)
    try {
      await whenSynced(provider)
      expect(findTask(doc, t.id)).not.toBeNull()
      await ada.client.patch(`/api/tasks/${t.id}`, { status: 'done', title: 'Live and done' })
      await ada.client.post(`/api/tasks/${t.id}/comments`, { bodyMd: 'seen live' })
      await expect.poll(() => findTask(doc, t.id) && readTask(findTask(doc, t.id)!)).toMatchObject({ status: 'done', title: 'Live and done' })
      await expect.poll(() => listComments(doc, t.id).map((c) => c.body)).toEqual(['seen live'])
    } finally {
      provider.destroy()
    }
  })
})
