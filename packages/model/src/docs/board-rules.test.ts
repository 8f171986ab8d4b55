import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  addComment, addTaskLink, boardLabelsOf, boardMetaOf, activityOf, commentsOf, createTask, deleteComment, deleteTask, editComment,
  findComment, findTask, initBoard, setBoardLabel, setTaskKeys, tasksOf, updateTask, appendActivity
} from './board.js'
import { boardDocViolations, snapshotBoardDoc, type BoardWriteContext } from './board-rules.js'
import { newId } from '../ids.js'

/** The board invariants are the property suite's oracle: each rule must catch what it names. */
const alice = newId('member')
const bob = newId('member')
const now = Date.now()
/** The shape only: who uploaded it is the guard's check (OWN10), against the upload records. */
const file = { key: newId('file'), name: 'a.txt', contentType: 'text/plain', size: 3, url: '/files/x' }
const ctx = (sender: string, isAdmin = false): BoardWriteContext => ({ sender, isAdmin, now, joinedAt: now - 86_400_000 })

function world() {
  const doc = new Y.Doc()
  initBoard(doc, { conversationId: newId('conversation'), workspaceId: newId('workspace') })
  const task = createTask(doc, { createdBy: alice, title: 'Ship it', description: 'soon', createdAt: now - 1000 })
  const comment = addComment(doc, { taskId: task, author: alice, body: 'on it', createdAt: now - 500 })
  setBoardLabel(doc, 'bug', 'red')
  return { doc, task, comment }
}
type Edit = (d: Y.Doc, ids: { task: string; comment: string }) => void
function violations(sender: string, edit: Edit, isAdmin = false) {
  const { doc, task, comment } = world()
  const before = snapshotBoardDoc(doc)
  edit(doc, { task, comment })
  return boardDocViolations(before, doc, ctx(sender, isAdmin))
}
const text = (d: Y.Doc, id: string, k = 'description') => findTask(d, id)!.get(k) as Y.Text

describe('board invariants', () => {
  it('accept what members may do', () => {
    const ok: Array<[string, Edit, boolean?]> = [
      ['create', (d) => createTask(d, { createdBy: alice, title: 'New', assignees: [alice], labels: ['bug'], dueAt: now, parentId: newId('task') })],
      ['source', (d) => createTask(d, { createdBy: alice, title: 'From a message', source: { conversationId: newId('conversation'), messageId: newId('message') } })],
      ['fields', (d, { task }) => updateTask(d, task, { status: 'done', blocked: true, position: 'a5', progress: 40, dueAt: now })],
      ['clear', (d, { task }) => { updateTask(d, task, { dueAt: now }); updateTask(d, task, { dueAt: null, parentId: null }) }],
      ['type', (d, { task }) => { text(d, task).insert(2, 'very '); text(d, task).delete(0, 1); text(d, task, 'title').insert(0, '!') }],
      ['retitle', (d, { task }) => updateTask(d, task, { title: 'Shipped', description: '' })],
      ['assign', (d, { task }) => { setTaskKeys(d, task, 'assignees', { add: [bob, alice] }); setTaskKeys(d, task, 'labels', { add: ['p1'] }) }],
      ['link', (d, { task }) => addTaskLink(d, task, { taskId: newId('task'), kind: 'blocks' })],
      ['delete task', (d, { task }) => deleteTask(d, task)],
      ['comment', (d, { task }) => addComment(d, { taskId: task, author: alice, body: 'hi', mentions: [alice] })],
      ['own comment', (d, { comment }) => { editComment(d, comment, 'edited', []); deleteComment(d, comment) }],
      ['comment with files', (d, { task, comment }) => { addComment(d, { taskId: task, author: alice, body: '', attachments: [file] }); findComment(d, comment)!.set('attachments', [file]) }],
      ['palette', (d) => { setBoardLabel(d, 'p1', 'blue'); boardLabelsOf(d).delete('bug') }]
    ]
    for (const [what, edit] of ok) expect(violations(alice, edit), what).toEqual([])
    expect(violations(bob, (d, { comment }) => deleteComment(d, comment), true), 'admin moderation').toEqual([])
    expect(violations(bob, (d, { task }) => updateTask(d, task, { status: 'review' })), 'any member edits any task').toEqual([])
  })

  it('catch each broken rule', () => {
    const tooMany = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i))
    const cases: Array<[string, Edit, boolean?]> = [
      // BRD1
      ['created by its sender', (d) => createTask(d, { createdBy: alice, title: 'x' })],
      ['createdAt', (d) => createTask(d, { createdBy: bob, title: 'x', createdAt: now + 86_400_000 })],
      ['keyed by its own', (d) => { const m = new Y.Map(); m.set('id', newId('task')); tasksOf(d).set(newId('task'), m) }],
      ['carries a "title"', (d) => { const id = newId('task'); const m = new Y.Map<unknown>(); for (const [k, v] of Object.entries({ id, createdBy: bob, createdAt: now })) m.set(k, v); m.set('title', 'plain'); tasksOf(d).set(id, m) }],
      ['at most 500', (d) => createTask(d, { createdBy: bob, title: 'x'.repeat(501) })],
      // BRD2
      ['replaced', (d, { task }) => { const id = task; createTask(d, { id, createdBy: bob, title: 'over' }) }],
      ['removed', (d, { task }) => tasksOf(d).delete(task)],
      ['never changes', (d, { task }) => findTask(d, task)!.set('createdBy', bob)],
      ['never changes', (d, { task }) => findTask(d, task)!.set('source', { conversationId: newId('conversation'), messageId: newId('message') })],
      ['never replaced', (d, { task }) => findTask(d, task)!.set('description', new Y.Text('new'))],
      ['never replaced', (d, { task }) => findTask(d, task)!.set('assignees', new Y.Map())],
      ['never removed', (d, { task }) => findTask(d, task)!.delete('status')],
      // BRD3
      ['status', (d, { task }) => findTask(d, task)!.set('status', 'later')],
      ['progress', (d, { task }) => findTask(d, task)!.set('progress', 101)],
      ['position', (d, { task }) => findTask(d, task)!.set('position', 'x'.repeat(65))],
      ['fractional-indexing key', (d, { task }) => findTask(d, task)!.set('position', 'evil')],
      ['parentId', (d, { task }) => findTask(d, task)!.set('parentId', task)],
      ['updatedAt', (d, { task }) => findTask(d, task)!.set('updatedAt', now + 86_400_000)],
      ['unknown task key', (d, { task }) => findTask(d, task)!.set('evil', 1)],
      ['keyed by member id', (d, { task }) => setTaskKeys(d, task, 'assignees', { add: ['bob'] })],
      ['holds true', (d, { task }) => (findTask(d, task)!.get('labels') as Y.Map<unknown>).set('bug', 'yes')],
      ['at most 20 assignees', (d, { task }) => setTaskKeys(d, task, 'assignees', { add: tooMany(21, () => newId('member')) })],
      ['a link is', (d, { task }) => (findTask(d, task)!.get('links') as Y.Map<unknown>).set(newId('link'), { taskId: task, kind: 'owns' })],
      // BRD4
      ['plain text only', (d, { task }) => text(d, task).format(0, 2, { bold: true })],
      ['plain text only', (d, { task }) => text(d, task).insertEmbed(0, { image: 'x' })],
      ['plain text only', (d, { task }) => text(d, task).setAttribute('x', 1)],
      ['at most 40000', (d, { task }) => text(d, task).insert(0, 'x'.repeat(40_001))],
      // BRD5
      ['authored by its sender', (d, { task }) => addComment(d, { taskId: task, author: alice, body: 'x' })],
      ['names a task of this board', (d) => addComment(d, { taskId: newId('task'), author: bob, body: 'x' })],
      ['only the author changes the body', (d, { comment }) => findComment(d, comment)!.set('body', 'pwned')],
      ['only the author or an admin deletes', (d, { comment }) => deleteComment(d, comment)],
      ['a comment was removed', (d) => commentsOf(d).delete(0, 1)],
      ['not unique', (d, { task, comment }) => addComment(d, { id: comment, taskId: task, author: bob, body: 'x' })],
      ['never changes', (d, { comment }) => findComment(d, comment)!.set('taskId', newId('task'))],
      ['at most 40000', (d, { task }) => addComment(d, { taskId: task, author: bob, body: 'x'.repeat(40_001) })],
      ['only the author changes "attachments"', (d, { comment }) => findComment(d, comment)!.set('attachments', [file])],
      ['attachments is a list of at most 20 files', (d, { task }) => addComment(d, { taskId: task, author: bob, body: 'x', attachments: Array.from({ length: 21 }, () => file) })],
      ['attachments is a list', (d, { task }) => addComment(d, { taskId: task, author: bob, body: 'x', attachments: [{ ...file, script: 1 } as never] })],
      // BRD6
      ['colour', (d) => setBoardLabel(d, 'p1', 'chartreuse')],
      ['at most 100 labels', (d) => { for (let i = 0; i < 100; i++) setBoardLabel(d, `l${i}`, 'red') }],
      ['written by the server', (d, { task }) => appendActivity(d, [{ taskId: task, actor: bob, field: 'status', from: 'a', to: 'b', at: now }])],
      ['written by the server', (d) => boardMetaOf(d).set('workspaceId', newId('workspace'))],
      ['unknown root', (d) => d.getMap('elsewhere').set('x', 1)]
    ]
    for (const [needle, edit] of cases) {
      const found = violations(bob, edit)
      expect(found.some((v) => v.includes(needle)), `${needle}: got ${JSON.stringify(found)}`).toBe(true)
    }
  })

  it('keeps deleted set and the deleted comment empty', () => {
    const { doc, task, comment } = world()
    deleteTask(doc, task)
    deleteComment(doc, comment)
    const before = snapshotBoardDoc(doc)
    findTask(doc, task) // deleted tasks are hidden from findTask
    const map = tasksOf(doc).get(task)!
    map.delete('deleted')
    const c = commentsOf(doc).get(0)
    c.set('body', 'back')
    const found = boardDocViolations(before, doc, ctx(alice))
    expect(found).toContain('deleted stays set')
    expect(found).toContain('a deleted comment stays empty')
    expect(activityOf(doc).length).toBe(0)
  })
})
