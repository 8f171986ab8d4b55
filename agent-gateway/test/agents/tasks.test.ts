import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { WebsocketProvider } from 'y-websocket'
import type { AgentPacket } from '@circlechat/protocol'
import { activityOfTask, addComment, docName, findTask, listComments, readTask, setTaskKeys } from '@circlechat/model'
import { syncClient, whenSynced } from '../../src/test/sync-client.js'
import { FakeAgent, agentInfo, botClient, provision, sleep, waitFor, world, type Provisioned, type World } from './helpers.js'

// Agents on boards: task_assigned and task_comment runs with the task in the packet, the task
// actions as board edits a synced client sees, and the agent API's task routes. A real server and
// SQLite file, people on REST and on Yjs sync, and an in-process webhook agent.

const TASK_SCOPES = ['channels.read', 'channels.reply', 'tasks.write']

describe('agents on boards', () => {
  let w: World
  let hook: FakeAgent
  let scout: Provisioned
  let helper: Provisioned
  let secret: string
  const providers: WebsocketProvider[] = []
  /** What each agent answers, per trigger; anything else is HEARTBEAT_OK. */
  const replies = new Map<string, (p: AgentPacket) => unknown>()

  beforeAll(async () => {
    // Agents comment and assign here more than the default test limit of agent-caused wakes.
    w = await world({ agents: { botTurnLimit: 20 } })
    hook = await new FakeAgent((p) => (replies.get(`${p.agent.handle}:${p.trigger}`) ?? (() => 'HEARTBEAT_OK'))(p)).start()
    const agent = (handle: string) => provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], scopes: TASK_SCOPES })
    scout = await agent('scout')
    helper = await agent('helper')
    secret = (await w.ada.client.post('/api/conversations', { kind: 'channel', name: 'secret', isPrivate: true })).body.conversation.id
  })
  afterAll(async () => {
    for (const p of providers) p.destroy()
    await hook.close()
    await w.server.close()
  })

  /** A person's live copy of the channel's board, synced like a browser's. */
  async function boardOf(cookie: string) {
    const doc = new Y.Doc()
    const p = syncClient(w.server.url, cookie, docName.board(w.channelId), doc)
    providers.push(p)
    await whenSynced(p)
    return doc
  }
  const packetsOf = (a: Provisioned, trigger?: string) => hook.packets.filter((p) => p.packet.agent.handle === a.handle && (!trigger || p.packet.trigger === trigger))
  const nextPacket = (a: Provisioned, trigger: string, after: number) =>
    waitFor(() => packetsOf(a, trigger).slice(after)[0], 10_000, `${a.handle}'s ${trigger} packet`)
  const runOf = async (a: Provisioned, runId: string) => {
    await w.server.agents.queue.idle()
    return (await agentInfo(w.ada.client, a.id)).runs.find((r) => r.id === runId)!
  }
  const createTask = async (body: Record<string, unknown>) => {
    const res = await w.ada.client.post('/api/tasks', body)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body.task as { id: string }
  }

  let taskId = ''

  it('wakes an agent assigned a task with the task and its open tasks; its update_task moves the card', async () => {
    const ada = await boardOf(w.ada.client.cookie!)
    replies.set('scout:task_assigned', (p) => ({ actions: [
      { type: 'update_task', task_id: p.task!.id, status: 'review', progress: 80 },
      { type: 'set_memory', key: 'plan', value: 'numbers first', scope: 'task' }
    ] }))
    const before = packetsOf(scout, 'task_assigned').length
    const task = await createTask({ conversationId: w.channelId, title: 'Write the recap', bodyMd: 'For **Friday**', assignees: [scout.memberId], labels: ['launch'] })
    taskId = task.id
    const { packet, path } = await nextPacket(scout, 'task_assigned', before)
    expect(path).toBe('/event')
    expect(packet.triggerConversationId).toBe(w.channelId)
    expect(packet.task).toEqual({
      id: task.id, conversationId: w.channelId, conversationName: 'team', title: 'Write the recap', bodyMd: 'For **Friday**',
      status: 'backlog', blocked: false, progress: 0, dueAt: null, labels: ['launch'], assignees: [scout.memberId], assigneeHandles: ['scout'],
      parentId: null, createdBy: w.ada.member.id, subtasks: [], recentComments: []
    })
    expect(packet.myTasks).toEqual([{
      id: task.id, title: 'Write the recap', status: 'backlog', blocked: false, progress: 0, dueAt: null, conversationId: w.channelId,
      conversationName: 'team', labels: ['launch'], commentCount: 0, latestComment: null
    }])
    expect(packet.inbox[0]?.conversationId).toBe(w.channelId)

    const run = await runOf(scout, packet.runId)
    expect(run.errors).toEqual([])
    expect(run.applied.map((a) => a.type)).toEqual(['update_task', 'set_memory'])
    // The card moved on the board a person has open, by the agent.
    await waitFor(() => {
      const map = findTask(ada, task.id)
      return map && readTask(map).status === 'review' && readTask(map).progress === 80
    }, 5000, 'the card in review')
    expect(activityOfTask(ada, task.id).filter((e) => e.field === 'status')).toMatchObject([{ actor: scout.memberId, from: 'backlog', to: 'review' }])
    // Its own edit woke nobody; helper was never assigned.
    await sleep(200)
    await w.server.agents.queue.idle()
    expect(packetsOf(scout).length).toBe(before + 1)
    expect(packetsOf(helper, 'task_assigned')).toEqual([])
  })

  it('wakes the assignee on a person\'s comment, never on its own', async () => {
    const bob = await boardOf(w.bob.client.cookie!)
    replies.set('scout:task_comment', (p) => ({ actions: [{ type: 'task_comment', task_id: p.task!.id, body_md: 'Added the Q3 numbers.' }] }))
    const before = packetsOf(scout).length
    // Bob comments from his synced board, as the web app does.
    const commentId = addComment(bob, { taskId, author: w.bob.member.id, body: 'Can you add the numbers?' })
    const { packet } = await nextPacket(scout, 'task_comment', packetsOf(scout, 'task_comment').length)
    expect(packet.triggerCommentId).toBe(commentId)
    expect(packet.task?.recentComments).toEqual([{ id: commentId, memberId: w.bob.member.id, memberHandle: 'bob', bodyMd: 'Can you add the numbers?', ts: expect.any(String), attachments: [] }])
    expect(packet.myTasks[0]).toMatchObject({ id: taskId, status: 'review', progress: 80, commentCount: 1, latestComment: { memberId: w.bob.member.id, memberHandle: 'bob', bodyMd: 'Can you add the numbers?' } })
    // Task memory from the last run comes back with the task.
    expect(packet.memory.byTask).toEqual({ [taskId]: { plan: 'numbers first' } })

    const run = await runOf(scout, packet.runId)
    expect(run.errors).toEqual([])
    await waitFor(() => listComments(bob, taskId).find((c) => c.author === scout.memberId && c.body === 'Added the Q3 numbers.'), 5000, "the agent's comment")
    await sleep(200)
    await w.server.agents.queue.idle()
    expect(packetsOf(scout).length).toBe(before + 1)
  })

  it("an agent's comment wakes only the agents it mentions", async () => {
    const api = botClient(w.server.url, scout.botToken)
    expect((await api.post('/api/agent-api/act', { action: { type: 'assign_task', task_id: taskId, handle: 'helper' } })).body.ok).toBe(true)
    await nextPacket(helper, 'task_assigned', 0)
    await w.server.agents.queue.idle()
    const before = packetsOf(helper).length
    expect((await api.post('/api/agent-api/act', { action: { type: 'task_comment', task_id: taskId, body_md: 'Draft is up for review.' } })).body.ok).toBe(true)
    await sleep(300)
    await w.server.agents.queue.idle()
    expect(packetsOf(helper).length).toBe(before)
    await api.post('/api/agent-api/act', { action: { type: 'task_comment', task_id: taskId, body_md: '@helper please check the totals.' } })
    const { packet } = await nextPacket(helper, 'task_comment', 0)
    expect(packet.task?.recentComments.at(-1)).toMatchObject({ memberId: scout.memberId, bodyMd: '@helper please check the totals.' })
  })

  it('wakes an agent a person assigns from the live board', async () => {
    const task = await createTask({ conversationId: w.channelId, title: 'Check the totals' })
    const bob = await boardOf(w.bob.client.cookie!)
    await waitFor(() => findTask(bob, task.id), 5000, 'the task on the board')
    const before = packetsOf(helper, 'task_assigned').length
    setTaskKeys(bob, task.id, 'assignees', { add: [helper.memberId] })
    const { packet } = await nextPacket(helper, 'task_assigned', before)
    expect(packet.task).toMatchObject({ id: task.id, assignees: [helper.memberId], assigneeHandles: ['helper'] })
    expect(packet.myTasks.map((t) => t.id)).toContain(task.id)
  })

  it('refuses task actions the agent cannot take, each with its reason', async () => {
    const api = botClient(w.server.url, scout.botToken)
    const hidden = await createTask({ conversationId: secret, title: 'Board of a channel scout is not in' })
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'create_task', conversation_id: secret, title: 'Sneak in' },
      { type: 'update_task', task_id: hidden.id, status: 'done' },
      { type: 'task_comment', task_id: hidden.id, body_md: 'hello' },
      { type: 'assign_task', task_id: taskId, member_id: 'm_nobody' },
      { type: 'update_task', task_id: taskId },
      { type: 'share_to_task', task_id: hidden.id, files: [{ url: 'https://example.com/a.pdf' }] },
      { type: 'task_comment', task_id: taskId, body_md: 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nValueError: x' },
      { type: 'create_task', title: 'Due someday', due_at: 'someday' }
    ] })
    expect(res.body.ok).toBe(false)
    expect(res.body.errorDetails.map((e: { error: string }) => e.error)).toEqual([
      `not a member of conversation ${secret}`,
      `task ${hidden.id} does not exist, or is on a board you cannot see`,
      `task ${hidden.id} does not exist, or is on a board you cannot see`,
      expect.stringMatching(/^Not members of this conversation: m_nobody/),
      expect.stringMatching(/^nothing to change/),
      `task ${hidden.id} does not exist, or is on a board you cannot see`,
      expect.stringMatching(/^reply-guard \(traceback\)/),
      expect.stringMatching(/^due_at "someday" is not a time/)
    ])
    // Nothing reached the hidden board.
    const doc = await w.server.gateway.sync.getDoc(docName.board(secret))
    expect(readTask(findTask(doc, hidden.id)!).status).toBe('backlog')
    expect(listComments(doc, hidden.id)).toEqual([])
  })

  it('create_task lands on the trigger conversation\'s board, or the one named', async () => {
    const api = botClient(w.server.url, scout.botToken)
    const res = await api.post('/api/agent-api/act', { actions: [
      { type: 'create_task', conversation_id: w.channelId, title: 'Book the room', status: 'blocked', assignees: [w.bob.member.id], labels: ['ops'], due_at: '2027-01-02T03:04:05Z', parent_id: taskId },
      { type: 'create_task', title: 'Workspace chore' }
    ] })
    expect(res.body.errors).toEqual([])
    const [made, chore] = res.body.results.map((r: { result: { taskId: string } }) => r.result.taskId)
    const doc = await w.server.gateway.sync.getDoc(docName.board(w.channelId))
    expect(readTask(findTask(doc, made)!)).toMatchObject({
      title: 'Book the room', status: 'backlog', blocked: true, assignees: [w.bob.member.id], labels: ['ops'],
      dueAt: Date.parse('2027-01-02T03:04:05Z'), parentId: taskId, createdBy: scout.memberId
    })
    expect(findTask(await w.server.gateway.sync.getDoc(docName.board(w.ada.workspace.id)), chore)).not.toBeNull()
  })

  it('answers the agent API task routes, 404 for a task on a board it cannot see', async () => {
    const api = botClient(w.server.url, scout.botToken)
    const list = await api.get(`/api/agent-api/tasks?conversationId=${w.channelId}`)
    expect(list.status).toBe(200)
    expect(list.body.tasks.map((t: { id: string }) => t.id)).toContain(taskId)
    const one = await api.get(`/api/agent-api/tasks/${taskId}`)
    expect(one.body.task).toMatchObject({ id: taskId, conversationName: 'team', status: 'review' })
    expect(one.body.task.comments.length).toBeGreaterThan(0)

    const created = await api.post('/api/agent-api/tasks', { conversationId: w.channelId, title: 'From the API', bodyMd: 'body', assignees: [scout.memberId] })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.task).toMatchObject({ title: 'From the API', createdBy: scout.memberId, conversationId: w.channelId })
    const patched = await api.patch(`/api/agent-api/tasks/${created.body.task.id}`, { status: 'done', progress: 100 })
    expect(patched.status).toBe(200)
    expect(patched.body.task).toMatchObject({ status: 'done', progress: 100 })
    const comment = await api.post(`/api/agent-api/tasks/${created.body.task.id}/comments`, { bodyMd: 'Shipped.' })
    expect(comment.status).toBe(201)
    expect(comment.body.comment).toMatchObject({ memberId: scout.memberId, bodyMd: 'Shipped.' })
    // A done task is no longer open, so not in my-tasks; the API's own list filter agrees.
    const mine = await api.get(`/api/agent-api/tasks?assignee=${scout.memberId}&status=done`)
    expect(mine.body.tasks.map((t: { id: string }) => t.id)).toEqual([created.body.task.id])

    const hidden = await createTask({ conversationId: secret, title: 'Not for agents' })
    for (const res of [
      await api.get(`/api/agent-api/tasks/${hidden.id}`),
      await api.patch(`/api/agent-api/tasks/${hidden.id}`, { status: 'done' }),
      await api.post(`/api/agent-api/tasks/${hidden.id}/comments`, { bodyMd: 'hi' }),
      await api.get('/api/agent-api/tasks/task_doesnotexist')
    ]) expect(res.status).toBe(404)
    expect((await api.get(`/api/agent-api/tasks?conversationId=${secret}`)).status).toBe(404)
    expect((await api.post('/api/agent-api/tasks', { conversationId: secret, title: 'x' })).status).toBe(400)

    for (const bad of [
      await api.post('/api/agent-api/tasks', { title: '' }),
      await api.post('/api/agent-api/tasks', { title: 'x', status: 'doing' }),
      await api.patch(`/api/agent-api/tasks/${taskId}`, {}),
      await api.patch(`/api/agent-api/tasks/${taskId}`, { progress: 101 }),
      await api.post(`/api/agent-api/tasks/${taskId}/comments`, { body: 'wrong field' })
    ]) {
      expect(bad.status, JSON.stringify(bad.body)).toBe(400)
      expect(bad.body).toEqual({ error: expect.any(String), message: expect.any(String) })
    }
  })
})
