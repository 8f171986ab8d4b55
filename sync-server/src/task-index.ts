import * as Y from 'yjs'
import { readComment, readTask, tasksOf, type ArchivedTask, type Task } from '@circlechat/model'
import type { BoardWatch } from './board-watch.js'
import { settled, type Attaching, type BoardScope, type Got, type IndexRows, type TaskRow } from './persistence/rows.js'

export type { BoardScope } from './persistence/rows.js'

/**
 * Materialises tasks from board docs into `tasks` and `task_assignees` (the All tasks view,
 * my-tasks, agent packets, search). Written inside the same transaction as the update it
 * reflects, for every writer, so the index never lags or leads the documents.
 */
export class TaskIndex<Tx, A extends boolean> {
  readonly #rows: IndexRows<Tx, A>
  /** Ids accepted but not yet committed: the table cannot see them yet. */
  #pending = new Set<string>()

  constructor(rows: IndexRows<Tx, A>) {
    this.#rows = rows
  }

  idTaken(id: string): Got<boolean, A> {
    return this.#pending.has(id) ? settled(this.#rows.async, true) : this.#rows.taskTaken(id)
  }

  /** Keeps archived tasks in their rows as they last stood (before they leave the doc). */
  archive(scope: BoardScope, archived: ArchivedTask[], at: number): Got<void, A> {
    return this.#rows.archiveTasks(scope, archived, at)
  }

  /**
   * Reads the tasks now (they may change before commit) and returns the writer. `taskIds`: tasks
   * created or changed, and tasks whose comments were; `comments`: the comment maps created or
   * changed, whose attachments are recorded in `file_refs` like a message's.
   */
  prepare(scope: BoardScope, watch: BoardWatch, doc: Y.Doc, taskIds: Iterable<string>, comments: Iterable<Y.Map<unknown>> = []): { tasks: Task[]; write: (tx: Tx) => Got<void, A>; done: () => void } {
    const rows: TaskRow[] = []
    for (const id of new Set(taskIds)) {
      const map = tasksOf(doc).get(id)
      if (!(map instanceof Y.Map)) continue
      const task = readTask(map)
      const live = watch.commentsOf(id).filter((c) => c.get('deleted') !== true)
      rows.push({ task, comments: live.map((c) => String(c.get('body') ?? '')).join('\n'), commentCount: live.length })
      this.#pending.add(task.id)
    }
    // Read now, not at commit: the maps may change in between. A deleted comment reads with no
    // attachments, so its rows are marked deleted from the raw list.
    const refs: Attaching[] = []
    for (const map of comments) {
      const raw = map.get('attachments')
      const c = readComment(map)
      refs.push({ ref: c.id, keys: Array.isArray(raw) ? raw.map((a: { key: string }) => a.key) : [], deleted: c.deleted, createdAt: c.createdAt, taskId: c.taskId })
    }
    return {
      tasks: rows.map((r) => r.task),
      write: (tx) => this.#rows.writeTasks(tx, scope, rows, refs),
      done: () => {
        for (const r of rows) this.#pending.delete(r.task.id)
      }
    }
  }
}
