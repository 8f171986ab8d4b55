import type { IncomingMessage } from 'node:http'
import * as Y from 'yjs'
import { commentsOf, parseDocName, readComment, tasksOf } from '@circlechat/model'
import { isOrigin, type Origin, type Principal, type SyncServer } from '@circlechat/sync-server'

/** What happened on a board that may wake an agent. `board` is the doc's scope id (conversation or workspace). */
export type TaskChange =
  | { kind: 'assigned'; board: string; taskId: string; memberIds: string[]; origin: Origin }
  | { kind: 'commented'; board: string; taskId: string; commentId: string; author: string; mentions: string[]; at: number; origin: Origin }

/**
 * The board half of the change feed: assignments and new comments, from every writer. The relay's
 * feed carries messages only, so, like the unread tracker with `me:` docs, this observes each
 * live board doc instance it is handed: every sync connection passes `onSyncUpgrade` (which loads
 * the instance the connection gets and observes it before the connection's first update), and
 * every server-authored edit goes through `wrap`'s transact. A connected doc is never evicted; a
 * reloaded one arrives through one of the two again.
 *
 * Observers run inside the relay's transaction, before the update is durable; changes are
 * delivered two event-loop turns later, after the store's group commit of that turn (the task
 * index included), so listeners read committed rows.
 */
export class BoardFeed {
  readonly #listeners = new Set<(change: TaskChange) => void>()
  readonly #observed = new WeakSet<Y.Doc>()
  #sync: SyncServer | null = null

  /** The sync server every board edit of this process goes through, watching boards it touches. */
  wrap(sync: SyncServer): SyncServer {
    this.#sync = sync
    const watchFirst = async <T>(name: string, then: () => Promise<T>) => {
      if (parseDocName(name)?.kind === 'board') await this.watch(name)
      return then()
    }
    return new Proxy(sync, {
      get: (target, key) => {
        if (key === 'transact') return (name: string, origin: Origin, fn: (doc: Y.Doc) => unknown) => watchFirst(name, () => target.transact(name, origin, fn))
        if (key === 'getDoc') return (name: string) => watchFirst(name, () => target.getDoc(name))
        const value = Reflect.get(target, key) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
  }

  /** Call from the sync server's `authenticate` with the resolved principal; returns it unchanged. */
  onSyncUpgrade(req: IncomingMessage, principal: Principal | null): Principal | null {
    if (!principal) return principal
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/sync\//, ''))
    if (parseDocName(name)?.kind === 'board') void this.watch(name).catch((err) => console.error('could not watch board', name, err))
    return principal
  }

  onTaskChange(listener: (change: TaskChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async watch(name: string): Promise<void> {
    const parsed = parseDocName(name)
    if (!this.#sync || parsed?.kind !== 'board') return
    const doc = await this.#sync.getDoc(name)
    if (this.#observed.has(doc)) return
    this.#observed.add(doc)
    const board = parsed.conversationId
    const tasks = tasksOf(doc)
    tasks.observeDeep((events, tr) => {
      const origin = tr.origin
      if (!isOrigin(origin)) return
      for (const event of events) {
        if (event.target === tasks) {
          // A new task: everyone it was created with is assigned.
          for (const [taskId, change] of event.changes.keys) {
            if (change.action !== 'add') continue
            const assignees = (tasks.get(taskId)?.get('assignees') as Y.Map<unknown> | undefined)
            const memberIds = assignees instanceof Y.Map ? [...assignees.keys()].filter((k) => assignees.get(k) === true) : []
            if (memberIds.length) this.#emit({ kind: 'assigned', board, taskId, memberIds, origin })
          }
          continue
        }
        const task = event.target.parent
        if (!(task instanceof Y.Map) || task.parent !== tasks || task.get('assignees') !== event.target) continue
        const set = event.target as Y.Map<unknown>
        const added = [...event.changes.keys].filter(([k, c]) => c.action !== 'delete' && set.get(k) === true && c.oldValue !== true).map(([k]) => k)
        if (added.length) this.#emit({ kind: 'assigned', board, taskId: String(task.get('id')), memberIds: added, origin })
      }
    })
    commentsOf(doc).observe((event, tr) => {
      const origin = tr.origin
      if (!isOrigin(origin)) return
      for (const item of event.changes.added) {
        const map = (item.content as Y.ContentType).type
        if (!(map instanceof Y.Map)) continue
        const c = readComment(map)
        this.#emit({ kind: 'commented', board, taskId: c.taskId, commentId: c.id, author: c.author, mentions: c.mentions, at: c.createdAt, origin })
      }
    })
  }

  #emit(change: TaskChange) {
    setImmediate(() => setImmediate(() => {
      for (const listener of this.#listeners) {
        try { listener(change) } catch (err) { console.error('task change listener failed', err) }
      }
    }))
  }
}
