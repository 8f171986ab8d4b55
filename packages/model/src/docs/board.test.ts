import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createTask, deleteTask, findTask, followTasks, listTasks, updateTask, type Task } from './board.js'

describe('followTasks', () => {
  it('keeps the board order after every kind of change, re-reading only touched cards', () => {
    const doc = new Y.Doc()
    const a = createTask(doc, { createdBy: 'm_a', title: 'A', status: 'backlog' })
    let seen: Task[] = []
    const stop = followTasks(doc, (tasks) => (seen = tasks))
    expect(seen.map((t) => t.title)).toEqual(['A'])

    const b = createTask(doc, { createdBy: 'm_a', title: 'B', status: 'backlog' })
    expect(seen.map((t) => t.id)).toEqual(listTasks(doc).map((t) => t.id))
    updateTask(doc, a, { status: 'done' })
    expect(seen.find((t) => t.id === a)?.status).toBe('done')
    ;(findTask(doc, b)!.get('title') as Y.Text).insert(1, ' and more')
    expect(seen.find((t) => t.id === b)?.title).toBe('B and more')
    ;(findTask(doc, b)!.get('assignees') as Y.Map<boolean>).set('m_b', true)
    expect(seen.find((t) => t.id === b)?.assignees).toEqual(['m_b'])
    deleteTask(doc, a)
    expect(seen.map((t) => t.id)).toEqual([b])
    expect(seen).toEqual(listTasks(doc))

    stop()
    createTask(doc, { createdBy: 'm_a', title: 'C' })
    expect(seen.map((t) => t.id)).toEqual([b])
  })

  it('agrees with a full read after a remote update touching many cards at once', () => {
    const local = new Y.Doc()
    const remote = new Y.Doc()
    let seen: Task[] = []
    followTasks(local, (tasks) => (seen = tasks))
    remote.transact(() => {
      for (let i = 0; i < 50; i++) createTask(remote, { createdBy: 'm_a', title: `T${i}`, status: i % 2 ? 'review' : 'backlog' })
    })
    Y.applyUpdate(local, Y.encodeStateAsUpdate(remote))
    expect(seen).toEqual(listTasks(local))
  })
})
