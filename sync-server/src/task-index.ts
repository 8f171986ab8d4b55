import * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import { readComment, readTask, tasksOf, type ArchivedTask, type Task, type TaskComment } from '@circlechat/model'
import type { BoardWatch } from './board-watch.js'
import { FileRefs } from './file-refs.js'

/** Where a board's tasks are indexed: `board` is the doc's scope id (conversation or workspace). */
export interface BoardScope {
  board: string
  workspaceId: string
  conversationId: string | null
}

/**
 * Materialises tasks from board docs into `tasks` and `task_assignees` (the All tasks view,
 * my-tasks, agent packets, search). Runs inside the same SQLite transaction as the update it
 * reflects, for every writer, so the index never lags or leads the documents.
 */
export class TaskIndex {
  #upsert
  #exists
  #clearAssignees
  #assign
  #archive
  #tx
  #refs
  /** Ids accepted but not yet committed: the table cannot see them yet. */
  #pending = new Set<string>()

  constructor(db: Db) {
    const sqlite = db.$client
    this.#upsert = sqlite.prepare(`
      INSERT INTO tasks (id, workspace_id, board, conversation_id, title, body, status, blocked, position, progress, due_at, parent_id, created_by, created_at, updated_at, deleted, labels, comments, comment_count)
      VALUES (@id, @workspaceId, @board, @conversationId, @title, @body, @status, @blocked, @position, @progress, @dueAt, @parentId, @createdBy, @createdAt, @updatedAt, @deleted, @labels, @comments, @commentCount)
      ON CONFLICT(id) DO UPDATE SET title = excluded.title, body = excluded.body, status = excluded.status, blocked = excluded.blocked,
        position = excluded.position, progress = excluded.progress, due_at = excluded.due_at, parent_id = excluded.parent_id,
        updated_at = excluded.updated_at, deleted = excluded.deleted, labels = excluded.labels, comments = excluded.comments,
        comment_count = excluded.comment_count, archived_at = NULL, archive = NULL
      WHERE tasks.board = excluded.board`)
    this.#archive = sqlite.prepare('UPDATE tasks SET archived_at = @at, archive = @archive WHERE id = @id AND board = @board')
    this.#tx = sqlite.transaction((scope: BoardScope, archived: ArchivedTask[], at: number) => {
      for (const a of archived) this.#archive.run({ id: a.task.id, board: scope.board, at, archive: JSON.stringify(a) })
    })
    this.#exists = sqlite.prepare('SELECT 1 FROM tasks WHERE id = ?').pluck()
    this.#clearAssignees = sqlite.prepare('DELETE FROM task_assignees WHERE task_id = ?')
    this.#assign = sqlite.prepare('INSERT INTO task_assignees (task_id, member_id) VALUES (?, ?)')
    this.#refs = new FileRefs(db)
  }

  idTaken(id: string): boolean {
    return this.#pending.has(id) || this.#exists.get(id) === 1
  }

  /** Keeps archived tasks in their rows as they last stood (before they leave the doc). */
  archive(scope: BoardScope, archived: ArchivedTask[], at: number) {
    this.#tx(scope, archived, at)
  }

  /**
   * Reads the tasks now (they may change before commit) and returns the writer. `taskIds`: tasks
   * created or changed, and tasks whose comments were; `comments`: the comment maps created or
   * changed, whose attachments are recorded in `file_refs` like a message's.
   */
  prepare(scope: BoardScope, watch: BoardWatch, doc: Y.Doc, taskIds: Iterable<string>, comments: Iterable<Y.Map<unknown>> = []): { tasks: Task[]; write: () => void; done: () => void } {
    const rows: Array<{ task: Task; comments: string; commentCount: number }> = []
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
    const attached: Array<{ comment: TaskComment; keys: string[] }> = []
    for (const map of comments) {
      const raw = map.get('attachments')
      attached.push({ comment: readComment(map), keys: Array.isArray(raw) ? raw.map((a: { key: string }) => a.key) : [] })
    }
    return {
      tasks: rows.map((r) => r.task),
      write: () => {
        for (const { task: t, comments, commentCount } of rows) {
          const { changes } = this.#upsert.run({
            id: t.id, workspaceId: scope.workspaceId, board: scope.board, conversationId: scope.conversationId, title: t.title,
            body: t.description, status: t.status, blocked: t.blocked ? 1 : 0, position: t.position, progress: t.progress,
            dueAt: t.dueAt, parentId: t.parentId, createdBy: t.createdBy, createdAt: t.createdAt, updatedAt: t.updatedAt,
            deleted: t.deleted ? 1 : 0, labels: JSON.stringify(t.labels), comments, commentCount
          })
          // A task id already indexed for another board is never overwritten: fail the whole commit.
          if (changes !== 1) throw new Error(`task ${t.id} belongs to another board`)
          this.#clearAssignees.run(t.id)
          for (const m of t.assignees) this.#assign.run(t.id, m)
        }
        for (const { comment: c, keys } of attached) this.#refs.record(c.id, scope.board, keys, c.deleted, c.createdAt, c.taskId)
      },
      done: () => {
        for (const r of rows) this.#pending.delete(r.task.id)
      }
    }
  }
}
