import * as Y from 'yjs'
import { tasksOf, commentsOf, boardLabelsOf, activityOf, boardMetaOf } from '@circlechat/model'

/** What one transaction did to a board doc, as seen by its observers. */
export interface BoardChanges {
  createdTasks: Y.Map<unknown>[]
  updatedTasks: Y.Map<unknown>[]
  createdComments: Y.Map<unknown>[]
  updatedComments: Y.Map<unknown>[]
  /** Palette names written. */
  paletteKeys: string[]
  /** Changes no member may make (tasks or comments removed or replaced, activity, meta). */
  serverOnly: string[]
}

/**
 * Watches a board doc: collects the task and comment maps each transaction touched (observeDeep
 * runs before the doc's 'update' event) for the re-check, the task index and activity, and keeps
 * comment ids and each task's comments so neither needs a scan of the whole board.
 */
export class BoardWatch {
  readonly commentIds = new Set<string>()
  readonly #byTask = new Map<string, Y.Map<unknown>[]>()
  #createdTasks = new Set<Y.Map<unknown>>()
  #touchedTasks = new Set<Y.Map<unknown>>()
  #createdComments = new Set<Y.Map<unknown>>()
  #touchedComments = new Set<Y.Map<unknown>>()
  #paletteKeys = new Set<string>()
  #serverOnly: string[] = []

  constructor(readonly doc: Y.Doc) {
    const tasks = tasksOf(doc)
    const comments = commentsOf(doc)
    tasks.observeDeep((events) => {
      for (const event of events) {
        if (event.target === tasks) {
          for (const [key, change] of event.changes.keys) {
            const map = tasks.get(key)
            if (change.action === 'add' && map instanceof Y.Map) this.#createdTasks.add(map)
            else this.#serverOnly.push(`task ${key} was ${change.action === 'add' ? 'not a map' : 'removed or replaced'}`)
          }
          if (event.changes.delta.length > 0) this.#serverOnly.push('tasks holds task maps by id only')
          continue
        }
        const map = childOf(event.target, tasks)
        if (map instanceof Y.Map) this.#touchedTasks.add(map)
      }
    })
    comments.observeDeep((events) => {
      for (const event of events) {
        if (event.target === comments) {
          for (const item of event.changes.added) {
            const map = item.content instanceof Y.ContentType ? item.content.type : null
            if (map instanceof Y.Map) {
              this.#createdComments.add(map)
              this.#remember(map)
            } else if (!item.deleted) this.#serverOnly.push('comments holds only comment maps')
          }
          if (event.changes.deleted.size > 0) this.#serverOnly.push('a comment was removed')
          if (event.changes.keys.size > 0) this.#serverOnly.push('comments holds no keys')
          continue
        }
        const map = childOf(event.target, comments)
        if (map instanceof Y.Map) this.#touchedComments.add(map)
      }
    })
    boardLabelsOf(doc).observe((event) => {
      for (const key of event.changes.keys.keys()) this.#paletteKeys.add(key)
      if (event.changes.delta.length > 0) this.#serverOnly.push('labels holds colours by name')
    })
    activityOf(doc).observe(() => this.#serverOnly.push('activity is written by the server'))
    boardMetaOf(doc).observe(() => this.#serverOnly.push('meta is written by the server'))
  }

  #remember(comment: Y.Map<unknown>) {
    this.commentIds.add(String(comment.get('id')))
    const taskId = String(comment.get('taskId'))
    const list = this.#byTask.get(taskId)
    if (list) list.push(comment)
    else this.#byTask.set(taskId, [comment])
  }

  /** A task's comment maps, oldest first (deleted ones included). */
  commentsOf(taskId: string): readonly Y.Map<unknown>[] {
    return this.#byTask.get(taskId) ?? []
  }

  /** What changed since the last call. */
  take(): BoardChanges {
    const out: BoardChanges = {
      createdTasks: [...this.#createdTasks],
      updatedTasks: [...this.#touchedTasks].filter((m) => !this.#createdTasks.has(m)),
      createdComments: [...this.#createdComments],
      updatedComments: [...this.#touchedComments].filter((m) => !this.#createdComments.has(m)),
      paletteKeys: [...this.#paletteKeys],
      serverOnly: this.#serverOnly
    }
    this.#createdTasks.clear()
    this.#touchedTasks.clear()
    this.#createdComments.clear()
    this.#touchedComments.clear()
    this.#paletteKeys.clear()
    this.#serverOnly = []
    return out
  }
}

/** The child of `root` that `type` lies within. */
function childOf(type: Y.AbstractType<any>, root: Y.AbstractType<any>): Y.AbstractType<unknown> | null {
  let t: Y.AbstractType<unknown> | null = type
  while (t && t.parent !== root) t = t.parent as Y.AbstractType<unknown> | null
  return t
}
