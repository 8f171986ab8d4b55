import * as Y from 'yjs'
import {
  messageViolations, snapshotMessage, snapshotTask, snapshotComment, taskViolations, commentViolations, paletteViolations, tasksOf,
  readTask, boardLabelsOf, type MessageSnapshot, type MessageWriteContext, type TaskSnapshot, type CommentSnapshot, type Task
} from '@circlechat/model'
import type { Origin } from '../origins.js'
import type { BoardChanges } from '../board-watch.js'
import type { BoardCheck } from './rules/board.js'

/** What a board update touched, as it was before: for the re-check and for activity. */
export interface BoardBefore {
  tasks: Map<Y.Map<unknown>, TaskSnapshot>
  comments: Map<Y.Map<unknown>, CommentSnapshot>
  /** The same tasks as read for activity (their fields before the change). */
  read: Map<Y.Map<unknown>, Task>
  paletteSize: number
}

/** The tasks and comments the guard found a board update touching, read before it is applied. */
export function boardBefore(check: BoardCheck, doc: Y.Doc): BoardBefore {
  return {
    tasks: new Map(check.touchedTasks.map((m) => [m, snapshotTask(m)])),
    comments: new Map(check.touchedComments.map((m) => [m, snapshotComment(m)])),
    read: new Map(check.touchedTasks.map((m) => [m, readTask(m)])),
    paletteSize: boardLabelsOf(doc).size
  }
}

/** A client update being applied, with what the guard decided about it. */
export interface ApplyingUpdate {
  origin: Extract<Origin, { source: 'connection' }>
  /** Yjs client ids the update introduces; bound to its member when it is stored. */
  newClients: number[]
  rules: MessageWriteContext
  /** The existing messages the guard found the update touching, as they were before. */
  before: Map<Y.Map<unknown>, MessageSnapshot>
  /** Board docs: the existing tasks and comments the guard found the update touching. */
  board?: BoardBefore
}

/**
 * The same rules as the guard, as invariants over what the update actually did (packages/model
 * message-rules): O(messages touched). A message changed that the guard did not foresee, or any
 * broken rule, means the guard and Yjs disagreed — the update must not be stored.
 */
export function afterApplyViolations(applying: ApplyingUpdate, created: Y.Map<unknown>[], updated: Y.Map<unknown>[]): string[] {
  const out: string[] = []
  for (const m of created) out.push(...messageViolations(null, snapshotMessage(m), applying.rules))
  for (const m of updated) {
    const before = applying.before.get(m)
    if (!before) out.push('changed a message the guard did not check')
    else out.push(...messageViolations(before, snapshotMessage(m), applying.rules))
  }
  return out
}

/** The board rules (packages/model board-rules) over what a board update did: O(tasks and
 *  comments touched). */
export function afterApplyBoardViolations(applying: ApplyingUpdate, changes: BoardChanges, doc: Y.Doc): string[] {
  const out = [...changes.serverOnly]
  const before = applying.board
  if (!before) return [...out, 'a board update the guard did not check as one']
  for (const m of changes.createdTasks) out.push(...taskViolations(null, snapshotTask(m), applying.rules))
  for (const m of changes.updatedTasks) {
    const prev = before.tasks.get(m)
    if (!prev) out.push('changed a task the guard did not check')
    else out.push(...taskViolations(prev, snapshotTask(m), applying.rules))
  }
  for (const m of changes.createdComments) {
    out.push(...commentViolations(null, snapshotComment(m), applying.rules))
    if (!(tasksOf(doc).get(String(m.get('taskId'))) instanceof Y.Map)) out.push('a comment names a task of this board')
  }
  for (const m of changes.updatedComments) {
    const prev = before.comments.get(m)
    if (!prev) out.push('changed a comment the guard did not check')
    else out.push(...commentViolations(prev, snapshotComment(m), applying.rules))
  }
  if (changes.paletteKeys.length > 0) out.push(...paletteViolations(doc, changes.paletteKeys, before.paletteSize))
  return out
}
