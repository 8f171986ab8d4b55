import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  addComment, addTaskLink, activityOf, boardLabelsOf, boardMetaOf, commentsOf, createTask, deleteComment, deleteTask, docName,
  editComment, findComment, findTask, listComments, listTasks, newId, setBoardLabel, setTaskKeys, tasksOf, updateTask, MAX_ACTIVITY,
  appendActivity, positionBetween
} from '@circlechat/model'
import { startHarness, until, synced, rawClient, type Harness, forgeUpdate, storedUpdates as storedUpdatesOf, seedFile, refsOf } from './harness.js'
import { decode, encode, withItem } from './forge.js'

/** BRD1–BRD6 and ACC5 over real sockets, a real relay and a real SQLite file, rule by rule. */
let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

const forge = (name: string, edit: (doc: Y.Doc) => void) => forgeUpdate(h, name, edit)
const row = (id: string) => h.db.$client.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Record<string, unknown> | undefined
const assignees = (id: string) => h.db.$client.prepare('SELECT member_id FROM task_assignees WHERE task_id = ? ORDER BY member_id').pluck().all(id)

async function setup() {
  const alice = h.seedMember()
  const bob = h.seedMember()
  const admin = h.seedMember('admin')
  const conv = h.seedConversation([alice.memberId, bob.memberId, admin.memberId])
  const name = docName.board(conv)
  const a = h.connect(name, alice.token)
  await synced(a)
  const task = createTask(a.doc, { createdBy: alice.memberId, title: 'Ship boards', description: 'the guard first' })
  const comment = addComment(a.doc, { taskId: task, author: alice.memberId, body: 'on it' })
  await until(() => row(task)?.comment_count === 1, 5000, 'task indexed')
  const server = await h.sync.getDoc(name)
  await until(() => activityOf(server).length === 2 && storedUpdatesOf(h, name) === 5, 5000, 'activity recorded')
  return { alice, bob, admin, conv, name, a, task, comment }
}

/** Sends `update` as `token`; expects `reason`, with nothing stored or changed. */
async function expectRefused(name: string, token: string, update: Uint8Array, reason: string) {
  const stored = storedUpdatesOf(h, name)
  const snapshot = Y.encodeStateAsUpdate(await h.sync.getDoc(name))
  const sock = await rawClient(h.url, name, token)
  sock.sendUpdate(update)
  await until(() => sock.rejects.length > 0, 5000, 'rejection')
  expect(sock.rejects[0]!.reason, sock.rejects[0]!.detail).toBe(reason)
  expect(storedUpdatesOf(h, name)).toBe(stored)
  expect(Y.encodeStateAsUpdate(await h.sync.getDoc(name))).toEqual(snapshot)
  sock.close()
}

/** A provider for `token` on the board, synced. */
async function member(name: string, token: string) {
  const p = h.connect(name, token)
  await synced(p)
  return p
}

describe('board docs: what members may do', () => {
  it('create, edit, type, assign, link, comment and delete are accepted, indexed and recorded (BRD1–BRD5)', async () => {
    const { alice, bob, admin, name, a, task, comment } = await setup()
    const b = await member(name, bob.token)
    const server = await h.sync.getDoc(name)
    const mine = createTask(b.doc, { createdBy: bob.memberId, title: 'Review', assignees: [alice.memberId], labels: ['p1'], dueAt: Date.now() + 86_400_000 })
    await until(() => findTask(server, mine) !== null, 5000, 'bob\'s task')
    updateTask(b.doc, task, { status: 'in_progress', progress: 30, blocked: true, position: 'a1' })
    ;(findTask(b.doc, task)!.get('description') as Y.Text).insert(0, 'write ')
    setTaskKeys(b.doc, task, 'assignees', { add: [bob.memberId] })
    addTaskLink(b.doc, task, { taskId: mine, kind: 'blocks' })
    setBoardLabel(b.doc, 'p1', 'red')
    const reply = addComment(b.doc, { taskId: task, author: bob.memberId, body: 'reviewing', mentions: [alice.memberId] })
    editComment(b.doc, reply, 'reviewed', [])
    await until(() => findComment(server, reply)?.get('body') === 'reviewed', 5000, 'bob\'s edits')
    deleteTask(b.doc, mine)
    const m = await member(name, admin.token)
    deleteComment(m.doc, comment)
    await until(() => row(task)?.comment_count === 1 && row(mine)?.deleted === 1, 5000, 'index follows')
    expect(row(task)).toMatchObject({ status: 'in_progress', progress: 30, blocked: 1, body: 'write the guard first', comments: 'reviewed', board: name.slice(6), conversation_id: name.slice(6), workspace_id: h.workspaceId })
    expect(assignees(task)).toEqual([bob.memberId])
    expect(assignees(mine)).toEqual([alice.memberId])
    expect(listTasks(a.doc).map((t) => t.id)).toEqual([task])
    expect(boardLabelsOf(server).get('p1')).toBe('red')
    // Activity is the server's, in the sender's name.
    await until(() => activityOf(server).toArray().some((e) => e.field === 'deleted' && e.taskId === mine), 5000, 'activity')
    const activity = activityOf(server).toArray()
    expect(activity.filter((e) => e.taskId === task && e.actor === bob.memberId).map((e) => e.field)).toEqual(expect.arrayContaining(['status', 'progress', 'blocked', 'assignees', 'commented']))
    expect(activity.find((e) => e.taskId === mine && e.field === 'created')).toMatchObject({ actor: bob.memberId, to: 'Review' })
    expect(activity.some((e) => e.actor === alice.memberId && e.field === 'created' && e.taskId === task)).toBe(true)
    await until(() => activityOf(a.doc).length === activityOf(server).length, 5000, 'activity relayed')
  })

  it('stamps board meta on first open, and a workspace board is its members\' (ACC5)', async () => {
    const { name, conv } = await setup()
    expect(boardMetaOf(await h.sync.getDoc(name)).toJSON()).toEqual({ conversationId: conv, workspaceId: h.workspaceId })
    const outsider = h.seedMember()
    await expect(rawClient(h.url, name, outsider.token)).rejects.toThrow('HTTP 403')
    const ws = docName.board(h.workspaceId)
    const p = await member(ws, outsider.token)
    const id = createTask(p.doc, { createdBy: outsider.memberId, title: 'Tied to nothing' })
    await until(() => row(id) !== undefined, 5000, 'workspace task indexed')
    expect(row(id)).toMatchObject({ board: h.workspaceId, conversation_id: null, workspace_id: h.workspaceId })
    expect(boardMetaOf(p.doc).toJSON()).toEqual({ conversationId: null, workspaceId: h.workspaceId })
    await expect(rawClient(h.url, docName.board(newId('workspace')), outsider.token)).rejects.toThrow('HTTP 403')
  })

  it('keeps the newest activity entries only, and folds quick edits of one field', async () => {
    const { bob, name, task } = await setup()
    const server = await h.sync.getDoc(name)
    await h.sync.transact(name, { source: 'server', reason: 'test' }, (d) => {
      appendActivity(d, Array.from({ length: MAX_ACTIVITY + 10 }, (_, i) => ({ taskId: task, actor: 'x', field: 'progress', from: i, to: i + 1, at: i })))
    })
    expect(activityOf(server).length).toBe(MAX_ACTIVITY)
    expect(activityOf(server).get(0).from).toBe(10)
    const b = await member(name, bob.token)
    const title = findTask(b.doc, task)!.get('title') as Y.Text
    for (const ch of '!!!') {
      title.insert(title.length, ch)
      await until(() => String(findTask(server, task)!.get('title')) === title.toString(), 5000, 'typed')
    }
    await until(() => activityOf(server).toArray().slice(-1)[0]?.to === 'Ship boards!!!', 5000, 'title activity')
    const titles = activityOf(server).toArray().filter((e) => e.field === 'title')
    expect(titles).toEqual([expect.objectContaining({ actor: bob.memberId, from: 'Ship boards', to: 'Ship boards!!!' })])
  })
})

describe('board docs: forged updates are refused, nothing stored', () => {
  it('BRD1: a task created as someone else, under a key not its id, reused, or incomplete', async () => {
    const { alice, bob, name, task } = await setup()
    await expectRefused(name, bob.token, await forge(name, (d) => createTask(d, { createdBy: alice.memberId, title: 'x' })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => createTask(d, { id: task, createdBy: bob.memberId, title: 'over' })), 'immutableField')
    await expectRefused(name, bob.token, await forge(name, (d) => createTask(d, { createdBy: bob.memberId, title: 'late', createdAt: Date.now() + 86_400_000 })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => {
      const id = newId('task')
      const m = new Y.Map<unknown>()
      for (const [k, v] of Object.entries({ id: newId('task'), createdBy: bob.memberId, createdAt: Date.now() })) m.set(k, v)
      tasksOf(d).set(id, m)
    }), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => createTask(d, { createdBy: bob.memberId, title: 'x'.repeat(501) })), 'invalidField')
    // A task id taken on another board.
    const other = h.seedConversation([bob.memberId])
    const p = await member(docName.board(other), bob.token)
    const elsewhere = createTask(p.doc, { createdBy: bob.memberId, title: 'elsewhere' })
    await until(() => row(elsewhere) !== undefined)
    await expectRefused(name, bob.token, await forge(name, (d) => createTask(d, { id: elsewhere, createdBy: bob.memberId, title: 'dup' })), 'immutableField')
  })

  it('BRD2: immutable fields, nested type replacement, removing a task, undeleting', async () => {
    const { bob, name, task, a } = await setup()
    const t = (d: Y.Doc) => tasksOf(d).get(task)!
    await expectRefused(name, bob.token, await forge(name, (d) => t(d).set('createdBy', bob.memberId)), 'immutableField')
    await expectRefused(name, bob.token, await forge(name, (d) => t(d).set('description', new Y.Text('mine now'))), 'immutableField')
    await expectRefused(name, bob.token, await forge(name, (d) => t(d).set('assignees', new Y.Map())), 'immutableField')
    await expectRefused(name, bob.token, await forge(name, (d) => tasksOf(d).delete(task)), 'notAuthor')
    const stored = storedUpdatesOf(h, name)
    deleteTask(a.doc, task)
    // The delete, then the server's activity entry for it: both stored before forging.
    await until(() => row(task)?.deleted === 1 && storedUpdatesOf(h, name) === stored + 2, 5000, 'delete and its activity stored')
    await expectRefused(name, bob.token, await forge(name, (d) => t(d).delete('deleted')), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => t(d).delete('status')), 'invalidField')
  })

  it('BRD3: bad values of member fields and sets', async () => {
    const { bob, name, task } = await setup()
    const t = (d: Y.Doc) => tasksOf(d).get(task)!
    for (const [k, v] of [['status', 'later'], ['progress', 101], ['progress', 2.5], ['position', '!'], ['parentId', task], ['updatedAt', Date.now() + 86_400_000], ['blocked', 'yes'], ['evil', 1]] as const) {
      await expectRefused(name, bob.token, await forge(name, (d) => t(d).set(k, v)), 'invalidField')
    }
    await expectRefused(name, bob.token, await forge(name, (d) => setTaskKeys(d, task, 'assignees', { add: ['bob'] })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => setTaskKeys(d, task, 'assignees', { add: Array.from({ length: 21 }, () => newId('member')) })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => (t(d).get('links') as Y.Map<unknown>).set(newId('link'), { taskId: task, kind: 'owns' })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => (t(d).get('labels') as Y.Map<unknown>).set('p1', new Y.Map())), 'invalidField')
  })

  it('BRD3: a position is an order key a card can be placed next to, not any base62 string', async () => {
    const { bob, name, task } = await setup()
    // Each of these would make the library throw for every client placing a card beside it.
    for (const position of ['evil', 'a00', 'b', 'A'.padEnd(27, '0')]) {
      expect(() => positionBetween(position, null)).toThrow()
      await expectRefused(name, bob.token, await forge(name, (d) => tasksOf(d).get(task)!.set('position', position)), 'invalidField')
    }
  })

  it('BRD4: formatting, embeds, attributes, nested types and text past the bound', async () => {
    const { bob, name, task } = await setup()
    const text = (d: Y.Doc, k = 'description') => tasksOf(d).get(task)!.get(k) as Y.Text
    await expectRefused(name, bob.token, await forge(name, (d) => text(d).format(0, 3, { bold: true })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => text(d).insertEmbed(0, { image: 'x' })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => text(d).setAttribute('x', 1)), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => text(d).insertEmbed(0, new Y.Map())), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => text(d, 'title').insert(0, 'x'.repeat(490))), 'invalidField')
    // Replacing the whole title within the bound is fine.
    const sock = await rawClient(h.url, name, bob.token)
    sock.sendUpdate(await forge(name, (d) => { text(d, 'title').delete(0, text(d, 'title').length); text(d, 'title').insert(0, 'y'.repeat(500)) }))
    await until(() => row(task)?.title === 'y'.repeat(500), 5000, 'full-length title')
    expect(sock.rejects).toEqual([])
    sock.close()
  })

  it('BRD5: comments as someone else, on no task, edited or deleted by others, removed', async () => {
    const { alice, bob, admin, name, task, comment } = await setup()
    const c = (d: Y.Doc) => findComment(d, comment)!
    await expectRefused(name, bob.token, await forge(name, (d) => addComment(d, { taskId: task, author: alice.memberId, body: 'as alice' })), 'notAuthor')
    await expectRefused(name, bob.token, await forge(name, (d) => addComment(d, { taskId: newId('task'), author: bob.memberId, body: 'nowhere' })), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => addComment(d, { id: comment, taskId: task, author: bob.memberId, body: 'dup id' })), 'immutableField')
    await expectRefused(name, bob.token, await forge(name, (d) => c(d).set('body', 'pwned')), 'notAuthor')
    await expectRefused(name, bob.token, await forge(name, (d) => c(d).set('deleted', true)), 'notAuthor')
    await expectRefused(name, bob.token, await forge(name, (d) => c(d).set('taskId', newId('task'))), 'immutableField')
    await expectRefused(name, admin.token, await forge(name, (d) => c(d).set('body', 'admin rewrite')), 'notAuthor')
    await expectRefused(name, bob.token, await forge(name, (d) => commentsOf(d).delete(0, 1)), 'notAuthor')
    await expectRefused(name, alice.token, await forge(name, (d) => { c(d).set('deleted', true) }), 'invalidField')
  })

  it('OWN10 on comments: own uploads are attached and recorded for the board, hidden when deleted', async () => {
    const { bob, conv, name, task } = await setup()
    const [one, two] = [seedFile(h, bob.memberId), seedFile(h, bob.memberId)]
    const b = await member(name, bob.token)
    const id = addComment(b.doc, { taskId: task, author: bob.memberId, body: 'logs attached', attachments: [one!, two!] })
    await until(() => refsOf(h, two!.key).length === 1, 5000, 'references')
    expect(refsOf(h, one!.key)).toEqual([{ ref: id, scope: conv, deleted: 0 }])
    expect(listComments(await h.sync.getDoc(name), task).find((c) => c.id === id)!.attachments).toEqual([one, two])
    // The author edits one away; then deletes the comment, which hides the other.
    findComment(b.doc, id)!.set('attachments', [one!])
    await until(() => refsOf(h, two!.key).length === 0, 5000, 'unreferenced')
    deleteComment(b.doc, id)
    await until(() => (refsOf(h, one!.key)[0] as { deleted: number }).deleted === 1, 5000, 'hidden')
    expect(listComments(await h.sync.getDoc(name), task).find((c) => c.id === id)).toBeUndefined()
    b.destroy()
  })

  it('OWN10 on comments: someone else\'s key, an unknown or misstated one, or another\'s comment, refused', async () => {
    const { alice, bob, admin, name, task, comment } = await setup()
    const hers = seedFile(h, alice.memberId)
    const mine = seedFile(h, bob.memberId)
    const made = { key: newId('file'), name: 'x', contentType: 'text/plain', size: 1, url: '/files/f_x' }
    const post = (attachments: unknown[]) => forge(name, (d) => addComment(d, { taskId: task, author: bob.memberId, body: 'x', attachments: attachments as never }))
    await expectRefused(name, bob.token, await post([hers]), 'notAuthor')
    await expectRefused(name, bob.token, await post([made]), 'notAuthor')
    await expectRefused(name, bob.token, await post([{ ...mine, url: 'https://evil.example/x' }]), 'invalidField')
    await expectRefused(name, bob.token, await post([{ ...mine, size: 1 }]), 'invalidField')
    await expectRefused(name, bob.token, await post([{ ...mine, script: 'x' }]), 'invalidField')
    await expectRefused(name, bob.token, await post(Array.from({ length: 21 }, () => mine)), 'invalidField')
    // Alice's own comment: nobody else attaches to it, not even their own file, nor an admin.
    await expectRefused(name, bob.token, await forge(name, (d) => findComment(d, comment)!.set('attachments', [mine])), 'notAuthor')
    await expectRefused(name, admin.token, await forge(name, (d) => findComment(d, comment)!.set('attachments', [])), 'notAuthor')
    // Alice edits her own comment to carry Bob's key.
    await expectRefused(name, alice.token, await forge(name, (d) => findComment(d, comment)!.set('attachments', [mine])), 'notAuthor')
    expect(refsOf(h, hers.key)).toEqual([])
    expect(refsOf(h, mine.key)).toEqual([])
  })

  it('BRD6: palette values, activity and meta', async () => {
    const { bob, name, task } = await setup()
    await expectRefused(name, bob.token, await forge(name, (d) => setBoardLabel(d, 'p1', 'chartreuse')), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => setBoardLabel(d, 'x'.repeat(41), 'red')), 'invalidField')
    await expectRefused(name, bob.token, await forge(name, (d) => appendActivity(d, [{ taskId: task, actor: 'someone', field: 'status', from: 'a', to: 'b', at: 1 }])), 'serverOnlyField')
    await expectRefused(name, bob.token, await forge(name, (d) => boardMetaOf(d).set('workspaceId', newId('workspace'))), 'serverOnlyField')
    await expectRefused(name, bob.token, await forge(name, (d) => d.getMap('elsewhere').set('x', 1)), 'invalidField')
  })

  it('RES2: a duplicate key in a new task or comment', async () => {
    const { alice, bob, name, task } = await setup()
    const dup = (update: Uint8Array, key: string, value: unknown) => {
      const x = decode(update)
      const victim = x.structs.find((s): s is Y.Item => s instanceof Y.Item && s.parentSub === key)!
      const last = x.structs.filter((s) => s.id.client === victim.id.client).pop()!
      x.structs[x.structs.indexOf(victim)] = withItem(victim, { content: new Y.ContentAny([value]) })
      x.structs.splice(x.structs.indexOf(last) + 1, 0, withItem(victim, { id: Y.createID(victim.id.client, last.id.clock + last.length) }))
      return encode(x)
    }
    await expectRefused(name, bob.token, dup(await forge(name, (d) => createTask(d, { createdBy: bob.memberId, title: 'x' })), 'createdBy', alice.memberId), 'duplicateKey')
    await expectRefused(name, bob.token, dup(await forge(name, (d) => addComment(d, { taskId: task, author: bob.memberId, body: 'x' })), 'author', alice.memberId), 'duplicateKey')
    expect(listComments(await h.sync.getDoc(name)).map((c) => c.author)).toEqual([alice.memberId])
  })
})

describe('board docs: done cards are archived', () => {
  it('a done task untouched for boardArchiveDays leaves the doc on load, kept whole in its row, and stays out', async () => {
    const { alice, conv, name, a, task } = await setup()
    const server = { source: 'server', reason: 'test' } as const
    const old = Date.now() - 15 * 86_400_000
    const open = createTask(a.doc, { createdBy: alice.memberId, title: 'Still open' })
    const today = createTask(a.doc, { createdBy: alice.memberId, title: 'Done today', status: 'done' })
    await until(() => row(open) !== undefined && row(today) !== undefined, 5000, 'indexed')
    // Dated by the server: a member cannot date an edit weeks back.
    await h.sync.transact(name, server, (d) => {
      updateTask(d, task, { status: 'done' })
      tasksOf(d).get(task)!.set('updatedAt', old)
      tasksOf(d).get(open)!.set('updatedAt', old)
    })
    const stale = Y.encodeStateAsUpdate(await h.sync.getDoc(name))
    expect(row(task)).toMatchObject({ status: 'done', updated_at: old, archived_at: null })

    // Loading the board archives: restart the relay over the same file.
    const dataFile = h.dataFile
    await h.close()
    h = await startHarness({ dataFile })
    const stored = storedUpdatesOf(h, name)
    const live = await h.sync.getDoc(name)
    await until(() => !tasksOf(live).has(task) && storedUpdatesOf(h, name) === stored + 1, 5000, 'archived, durably')
    expect(row(task)!.archived_at).toBeGreaterThan(old)
    expect(JSON.parse(String(row(task)!.archive))).toMatchObject({
      task: { id: task, title: 'Ship boards', description: 'the guard first', status: 'done', updatedAt: old },
      comments: [expect.objectContaining({ author: alice.memberId, body: 'on it' })],
      activity: expect.arrayContaining([expect.objectContaining({ field: 'created', taskId: task })])
    })
    expect(listComments(live, task)).toEqual([])
    expect(listTasks(live).map((t) => t.id).sort()).toEqual([open, today].sort())
    // Search reads the row, which keeps the task's text.
    expect(h.db.$client.prepare("SELECT t.id FROM tasks_fts f JOIN tasks t ON t.rowid = f.rowid WHERE tasks_fts MATCH 'ship'").pluck().all()).toEqual([task])

    // A client still holding the task cannot edit it, comment on it or bring it back.
    const carol = h.seedMember()
    h.db.$client.prepare('INSERT INTO conversation_members (conversation_id, member_id, joined_at) VALUES (?, ?, ?)').run(conv, carol.memberId, Date.now())
    const fromStale = (edit: (d: Y.Doc) => void) => {
      const d = new Y.Doc()
      Y.applyUpdate(d, stale)
      const sv = Y.encodeStateVector(d)
      edit(d)
      return Y.encodeStateAsUpdate(d, sv)
    }
    await expectRefused(name, carol.token, fromStale((d) => tasksOf(d).get(task)!.set('status', 'backlog')), 'unresolvable')
    await expectRefused(name, carol.token, fromStale((d) => (tasksOf(d).get(task)!.get('title') as Y.Text).insert(0, 'more ')), 'unresolvable')
    await expectRefused(name, carol.token, fromStale((d) => addComment(d, { taskId: task, author: carol.memberId, body: 'reopen?' })), 'invalidField')
    await expectRefused(name, carol.token, await forge(name, (d) => createTask(d, { id: task, createdBy: carol.memberId, title: 'again' })), 'immutableField')
    expect(row(task)!.archived_at).not.toBeNull()

    // A second load finds nothing more to do.
    await h.close()
    h = await startHarness({ dataFile })
    expect(tasksOf(await h.sync.getDoc(name)).has(task)).toBe(false)
  })

  it('archives the oldest first, boardArchiveBatch per run, and a task edited meanwhile is live again in the index', async () => {
    const { alice, name, a, task } = await setup()
    const day = 86_400_000
    const other = createTask(a.doc, { createdBy: alice.memberId, title: 'Second' })
    await until(() => row(other) !== undefined, 5000, 'indexed')
    await h.sync.transact(name, { source: 'server', reason: 'test' }, (d) => {
      for (const [id, age] of [[task, 20], [other, 30]] as const) {
        updateTask(d, id, { status: 'done' })
        tasksOf(d).get(id)!.set('updatedAt', Date.now() - age * day)
      }
    })
    const dataFile = h.dataFile
    await h.close()
    h = await startHarness({ dataFile, config: { boardArchiveBatch: 1, boardArchiveDays: 14 } })
    const live = await h.sync.getDoc(name)
    await until(() => !tasksOf(live).has(other), 5000, 'oldest archived')
    expect(tasksOf(live).has(task)).toBe(true)
    // A row archived but still on the board (a crash before the doc write) turns live again on the next edit.
    h.db.$client.prepare('UPDATE tasks SET archived_at = 1, archive = ? WHERE id = ?').run('{}', task)
    await h.sync.transact(name, { source: 'server', reason: 'test' }, (d) => updateTask(d, task, { status: 'review' }))
    expect(row(task)).toMatchObject({ status: 'review', archived_at: null, archive: null })
  })
})
