import * as Y from 'yjs'
import { activityOf, appendActivity, taskChanges, type ActivityEntry, type Task } from '@circlechat/model'
import type { ApplyingUpdate } from './guard/after-apply.js'
import type { BoardChanges } from './board-watch.js'

/** Edits of one field by one member within this long are one entry (typing a title is many). */
export const ACTIVITY_COALESCE_MS = 60_000

/** The activity a member's accepted board update makes: tasks created, fields changed, comments. */
export function boardActivity(applying: ApplyingUpdate, changes: BoardChanges, after: Task[], at: number): ActivityEntry[] {
  const actor = applying.origin.memberId
  const byId = new Map(after.map((t) => [t.id, t]))
  const out: ActivityEntry[] = []
  for (const m of changes.createdTasks) {
    const t = byId.get(String(m.get('id')))
    if (t) out.push({ taskId: t.id, actor, field: 'created', from: null, to: t.title, at })
  }
  for (const m of changes.updatedTasks) {
    const before = applying.board?.read.get(m)
    const now = before && byId.get(before.id)
    if (before && now) out.push(...taskChanges(before, now, actor, at))
  }
  for (const m of changes.createdComments) out.push({ taskId: String(m.get('taskId')), actor, field: 'commented', from: null, to: String(m.get('id')), at })
  return out
}

/** Appends `entries` (server-authored), folding an edit into the entry just before it when the
 *  same member changed the same field of the same task moments ago. */
export function recordActivity(doc: Y.Doc, entries: ActivityEntry[]) {
  const activity = activityOf(doc)
  const rest: ActivityEntry[] = []
  for (const e of entries) {
    const last = rest.length ? rest[rest.length - 1]! : activity.length ? activity.get(activity.length - 1) : undefined
    const folds = last && e.field !== 'created' && e.field !== 'commented' && last.taskId === e.taskId && last.actor === e.actor && last.field === e.field && e.at - last.at < ACTIVITY_COALESCE_MS
    if (!folds) {
      rest.push(e)
      continue
    }
    const merged = { ...e, from: last!.from }
    if (rest.length) rest[rest.length - 1] = merged
    else {
      activity.delete(activity.length - 1, 1)
      rest.push(merged)
    }
  }
  appendActivity(doc, rest)
}
