import * as Y from 'yjs'
import { isId } from '../ids.js'
import { MAX_CLOCK_SKEW_MS } from './messages.js'
import { MAX_MENTIONS, attachmentsProblem } from './message-rules.js'
import {
  TASKS, COMMENTS, LABELS, ACTIVITY, BOARD_META, MAX_TITLE_CHARS, MAX_DESCRIPTION_CHARS, MAX_COMMENT_CHARS, MAX_ASSIGNEES,
  MAX_TASK_LABELS, MAX_LINKS, MAX_BOARD_LABELS, TASK_TEXTS, TASK_SETS, taskFieldOwner, commentFieldOwner, isTaskStatus,
  isLinkKind, isPosition, isLabelColour, isLabelName, tasksOf, commentsOf, boardLabelsOf, activityOf, boardMetaOf
} from './board.js'

/**
 * BRD1–BRD6 (SPEC.md) as invariants over materialised board docs: given a task or comment before
 * and after a member's change, what may differ. The guard decides on the encoded update before
 * it is applied, with the same value checks; this checker runs on what the update did, in
 * production on the tasks and comments it touched and in the property-based suite on whole docs.
 */

/** Who is writing, and when. `joinedAt`: when the sender joined the board's conversation (0 for
 *  a workspace board); nothing they create is dated before it, less the allowed skew. */
export interface BoardWriteContext {
  sender: string
  isAdmin: boolean
  now: number
  joinedAt: number
}

export type TaskText = (typeof TASK_TEXTS)[number]
export type TaskSet = (typeof TASK_SETS)[number]
export const taskTextBound: Record<TaskText, number> = { title: MAX_TITLE_CHARS, description: MAX_DESCRIPTION_CHARS }
export const taskSetBound: Record<TaskSet, number> = { assignees: MAX_ASSIGNEES, labels: MAX_TASK_LABELS, links: MAX_LINKS }
export const isTaskText = (k: unknown): k is TaskText => (TASK_TEXTS as readonly unknown[]).includes(k)
export const isTaskSet = (k: unknown): k is TaskSet => (TASK_SETS as readonly unknown[]).includes(k)
/** Member fields a member may remove (`null` in a patch); the others keep a value once set. */
export const REMOVABLE_TASK_FIELDS = new Set(['dueAt', 'parentId', 'blocked'])
/** Plain fields a member may set on a task it creates. */
export const NEW_TASK_FIELDS = new Set(['id', 'createdBy', 'createdAt', 'source', 'status', 'blocked', 'position', 'dueAt', 'progress', 'parentId', 'updatedAt', 'deleted'])

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0
const inWindow = (v: unknown, ctx: BoardWriteContext) => isTime(v) && v >= ctx.joinedAt - MAX_CLOCK_SKEW_MS && v <= ctx.now + MAX_CLOCK_SKEW_MS
const notFuture = (v: unknown, ctx: BoardWriteContext) => isTime(v) && v <= ctx.now + MAX_CLOCK_SKEW_MS

function isSource(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const s = v as Record<string, unknown>
  return Object.keys(s).length === 2 && isId('conversation', s.conversationId) && isId('message', s.messageId)
}

/** Why a plain value of task `taskId`'s `field` is not acceptable, or null (BRD1, BRD3). */
export function taskFieldProblem(field: string, value: unknown, taskId: string, ctx: BoardWriteContext): string | null {
  switch (field) {
    case 'id':
      return value === taskId && isId('task', value) ? null : 'a task is keyed by its own task_<16 base32 chars> id'
    case 'createdBy':
      return value === ctx.sender ? null : 'a task is created by its sender'
    case 'createdAt':
      return inWindow(value, ctx) ? null : 'createdAt is a time between joining and now'
    case 'source':
      return isSource(value) ? null : 'source is {conversationId, messageId}'
    case 'status':
      return isTaskStatus(value) ? null : 'status is backlog, in_progress, review or done'
    case 'blocked':
      return typeof value === 'boolean' ? null : 'blocked is a boolean'
    case 'position':
      return isPosition(value) ? null : 'position is a fractional-indexing key of at most 64 characters'
    case 'dueAt':
      return isTime(value) ? null : 'dueAt is a time'
    case 'progress':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 100 ? null : 'progress is an integer 0–100'
    case 'parentId':
      return isId('task', value) && value !== taskId ? null : 'parentId is another task_ id'
    case 'updatedAt':
      return notFuture(value, ctx) ? null : 'updatedAt is a time, not in the future'
    case 'deleted':
      return value === true ? null : 'deleted can only be set to true'
    default:
      return `"${field}" is not a task field`
  }
}

/** Why `key` → `value` in a task's set is not acceptable, or null; `undefined` is a removal. */
export function taskSetProblem(set: TaskSet, key: string, value: unknown): string | null {
  if (set === 'assignees' && !isId('member', key)) return 'assignees are keyed by member id'
  if (set === 'labels' && !isLabelName(key)) return `labels are keyed by a label name of at most 40 characters`
  if (set === 'links' && !isId('link', key)) return 'links are keyed by lnk_ id'
  if (value === undefined) return null
  if (set !== 'links') return value === true ? null : `a key of ${set} holds true`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a link is {taskId, kind}'
  const link = value as Record<string, unknown>
  return Object.keys(link).length === 2 && isId('task', link.taskId) && isLinkKind(link.kind) ? null : 'a link is {taskId, kind: relates | blocks | duplicates}'
}

/** Why a value of a comment's `field` is not acceptable, or null (BRD5). */
export function commentFieldProblem(field: string, value: unknown, ctx: BoardWriteContext): string | null {
  switch (field) {
    case 'id':
      return isId('taskComment', value) ? null : 'a comment id is tcom_<16 base32 chars>'
    case 'taskId':
      return isId('task', value) ? null : 'taskId is a task_ id'
    case 'author':
      return value === ctx.sender ? null : 'a comment is authored by its sender'
    case 'createdAt':
      return inWindow(value, ctx) ? null : 'createdAt is a time between joining and now'
    case 'body':
      return typeof value === 'string' && value.length <= MAX_COMMENT_CHARS ? null : `body is text of at most ${MAX_COMMENT_CHARS} characters`
    case 'mentions':
      return Array.isArray(value) && value.length <= MAX_MENTIONS && value.every((m) => typeof m === 'string' && m.length <= 64) ? null : `mentions is a list of at most ${MAX_MENTIONS} member ids`
    case 'attachments':
      return attachmentsProblem(value)
    case 'editedAt':
      return notFuture(value, ctx) ? null : 'editedAt is a time, not in the future'
    case 'deleted':
      return value === true ? null : 'deleted can only be set to true'
    default:
      return `"${field}" is not a comment field`
  }
}

/** Why a palette entry is not acceptable, or null; `undefined` is a removal (BRD6). */
export function paletteProblem(name: string, colour: unknown): string | null {
  if (!isLabelName(name)) return 'a label name is at most 40 characters on one line'
  return colour === undefined || isLabelColour(colour) ? null : 'a label colour is one of LABEL_COLOURS'
}

// ---- snapshots ---------------------------------------------------------------------------------

const NESTED = 'nested Y type'
const itemKey = (item: Y.Item | null) => (item ? `${item.id.client}:${item.id.clock}` : null)
const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

export interface TextSnapshot {
  id: string | null
  length: number
  /** Anything but plain text in it: formatting, embeds, nested types, attributes. */
  rich: boolean
}

export interface TaskSnapshot {
  /** The key the task map sits under in `tasks`. */
  key: string
  /** Plain keys; a nested type where none belongs is recorded as a marker the checker refuses. */
  fields: Record<string, unknown>
  texts: Partial<Record<TaskText, TextSnapshot>>
  sets: Partial<Record<TaskSet, { id: string | null; entries: Record<string, unknown> }>>
  listItems: number
}

function snapshotText(text: Y.Text): TextSnapshot {
  let rich = text._map.size > 0
  for (let n = text._start; n !== null && !rich; n = n.right) {
    if (!(n.content instanceof Y.ContentString) && !(n.content instanceof Y.ContentDeleted)) rich = true
  }
  return { id: itemKey(text._item), length: text.length, rich }
}

export function snapshotTask(map: Y.Map<unknown>): TaskSnapshot {
  const snap: TaskSnapshot = { key: map._item?.parentSub ?? '', fields: {}, texts: {}, sets: {}, listItems: map._start === null ? 0 : 1 }
  for (const [k, v] of map.entries()) {
    if (isTaskText(k) && v instanceof Y.Text) snap.texts[k] = snapshotText(v)
    else if (isTaskSet(k) && v instanceof Y.Map) {
      const entries: Record<string, unknown> = {}
      for (const [sk, sv] of v.entries()) entries[sk] = sv instanceof Y.AbstractType ? NESTED : sv
      if (v._start !== null) entries[''] = NESTED
      snap.sets[k] = { id: itemKey(v._item), entries }
    } else snap.fields[k] = v instanceof Y.AbstractType ? NESTED : v
  }
  return snap
}

export interface CommentSnapshot {
  fields: Record<string, unknown>
  listItems: number
}

export function snapshotComment(map: Y.Map<unknown>): CommentSnapshot {
  const fields: Record<string, unknown> = {}
  for (const [k, v] of map.entries()) fields[k] = v instanceof Y.AbstractType ? NESTED : v
  return { fields, listItems: map._start === null ? 0 : 1 }
}

// ---- invariants --------------------------------------------------------------------------------

/** What is wrong with task `after` compared with `before` (null: the change created it). */
export function taskViolations(before: TaskSnapshot | null, after: TaskSnapshot, ctx: BoardWriteContext): string[] {
  const out: string[] = []
  const a = after.fields
  const b = before?.fields ?? {}
  const id = String(a.id)
  if (after.listItems > 0) out.push('a task map holds keys only')
  for (const [k, v] of Object.entries(a)) {
    if (!Object.hasOwn(taskFieldOwner, k)) out.push(`unknown task key "${k}"`)
    else if (v === NESTED || isTaskText(k) || isTaskSet(k)) out.push(`"${k}" holds the wrong kind of value`)
  }
  if (after.key !== id || !isId('task', id)) out.push('a task is keyed by its own task_ id')
  for (const k of TASK_TEXTS) {
    const t = after.texts[k]
    if (!t) {
      out.push(`a task carries a "${k}" Y.Text`)
      continue
    }
    if (before && t.id !== before.texts[k]?.id) out.push(`the "${k}" text is never replaced`)
    if (t.rich) out.push(`"${k}" holds plain text only`)
    if (t.length > taskTextBound[k] && t.length > (before?.texts[k]?.length ?? 0)) out.push(`"${k}" is at most ${taskTextBound[k]} characters`)
  }
  for (const k of TASK_SETS) {
    const s = after.sets[k]
    if (!s) {
      out.push(`a task carries a "${k}" map`)
      continue
    }
    const prev = before?.sets[k]
    if (before && s.id !== prev?.id) out.push(`the "${k}" map is never replaced`)
    for (const [key, v] of Object.entries(s.entries)) {
      if (prev && same(prev.entries[key], v)) continue
      const problem = v === NESTED ? `"${k}" holds plain values` : taskSetProblem(k, key, v)
      if (problem) out.push(problem)
    }
    const size = Object.keys(s.entries).length
    if (size > taskSetBound[k] && size > Object.keys(prev?.entries ?? {}).length) out.push(`a task has at most ${taskSetBound[k]} ${k}`)
  }
  if (before) {
    for (const k of ['id', 'createdBy', 'createdAt', 'source'] as const) if (!same(a[k], b[k])) out.push(`"${k}" never changes`)
    if (b.deleted === true && a.deleted !== true) out.push('deleted stays set')
    for (const k of Object.keys(b)) if (!(k in a) && Object.hasOwn(taskFieldOwner, k) && !REMOVABLE_TASK_FIELDS.has(k)) out.push(`"${k}" is never removed`)
  } else {
    for (const k of ['createdBy', 'createdAt'] as const) {
      const problem = taskFieldProblem(k, a[k], id, ctx)
      if (problem) out.push(problem)
    }
    if (a.source !== undefined) {
      const problem = taskFieldProblem('source', a.source, id, ctx)
      if (problem) out.push(problem)
    }
  }
  for (const [k, owner] of Object.entries(taskFieldOwner)) {
    if (owner !== 'member' || a[k] === undefined || a[k] === NESTED) continue
    if (before && same(a[k], b[k])) continue
    const problem = taskFieldProblem(k, a[k], id, ctx)
    if (problem) out.push(problem)
  }
  return out
}

/** What is wrong with comment `after` compared with `before` (null: the change created it). */
export function commentViolations(before: CommentSnapshot | null, after: CommentSnapshot, ctx: BoardWriteContext): string[] {
  const out: string[] = []
  const a = after.fields
  const b = before?.fields ?? {}
  const isAuthor = (before ? b.author : ctx.sender) === ctx.sender
  const changed = (k: string) => !same(a[k], b[k])
  if (after.listItems > 0) out.push('a comment map holds keys only')
  for (const [k, v] of Object.entries(a)) {
    if (!Object.hasOwn(commentFieldOwner, k)) out.push(`unknown comment key "${k}"`)
    if (v === NESTED) out.push(`"${k}" holds a nested type`)
  }
  if (before) {
    for (const k of ['id', 'taskId', 'author', 'createdAt'] as const) if (changed(k)) out.push(`"${k}" never changes`)
  } else {
    for (const k of ['id', 'taskId', 'author', 'createdAt', 'body'] as const) {
      const problem = commentFieldProblem(k, a[k], ctx)
      if (problem) out.push(problem)
    }
  }
  for (const k of ['body', 'mentions', 'attachments', 'editedAt', 'deleted'] as const) {
    if (a[k] === undefined || a[k] === NESTED || (before && !changed(k))) continue
    const problem = commentFieldProblem(k, a[k], ctx)
    if (problem) out.push(problem)
  }
  const moderating = ctx.isAdmin && (a.body === undefined || a.body === '')
  if (changed('body') && !isAuthor && !moderating) out.push('only the author changes the body')
  for (const k of ['mentions', 'attachments', 'editedAt'] as const) if (changed(k) && !isAuthor) out.push(`only the author changes "${k}"`)
  if (changed('deleted') && !isAuthor && !ctx.isAdmin) out.push('only the author or an admin deletes')
  if (b.deleted === true && a.deleted !== true) out.push('deleted stays set')
  if (a.deleted === true && a.body !== undefined && a.body !== '') out.push('a deleted comment stays empty')
  if (b.deleted === true) for (const k of ['mentions', 'attachments', 'editedAt'] as const) if (changed(k)) out.push(`"${k}" of a deleted comment never changes`)
  return out
}

/** What is wrong with the palette after a member's change: `names` are the keys it wrote. */
export function paletteViolations(doc: Y.Doc, names: Iterable<string>, sizeBefore: number): string[] {
  const out: string[] = []
  const labels = boardLabelsOf(doc) as Y.Map<unknown>
  for (const name of names) {
    const problem = paletteProblem(name, labels.get(name))
    if (problem) out.push(problem)
    if (labels.get(name) instanceof Y.AbstractType) out.push('a label colour is plain text')
  }
  if (labels._start !== null) out.push('labels holds colours by name')
  if (labels.size > MAX_BOARD_LABELS && labels.size > sizeBefore) out.push(`a board has at most ${MAX_BOARD_LABELS} labels`)
  return out
}

/** A whole board doc as plain data (tests; O(doc)). */
export interface BoardDocSnapshot {
  tasks: Map<string, TaskSnapshot & { item: string | null }>
  comments: Map<string, CommentSnapshot>
  labels: number
  serverRoots: unknown
}

export function snapshotBoardDoc(doc: Y.Doc): BoardDocSnapshot {
  const tasks = new Map<string, TaskSnapshot & { item: string | null }>()
  for (const [k, m] of tasksOf(doc).entries()) if (m instanceof Y.Map) tasks.set(k, { ...snapshotTask(m), item: itemKey(m._item) })
  const comments = new Map<string, CommentSnapshot>()
  for (const m of commentsOf(doc)) if (m instanceof Y.Map) comments.set(itemKey(m._item)!, snapshotComment(m))
  return { tasks, comments, labels: boardLabelsOf(doc).size, serverRoots: [activityOf(doc).toJSON(), boardMetaOf(doc).toJSON()] }
}

/**
 * Doc-level rules on top of the per-task and per-comment ones: tasks are never removed or
 * replaced, `tasks` holds task maps by id only, comments are maps, never removed, with unique ids
 * naming a task of this board, the palette holds colours, and `activity`, `meta` and every other
 * root are the server's (BRD1–BRD6).
 */
export function boardDocViolations(before: BoardDocSnapshot, after: Y.Doc, ctx: BoardWriteContext): string[] {
  const out: string[] = []
  const tasks = tasksOf(after)
  if (tasks._start !== null) out.push('tasks holds task maps by id only')
  for (const [k, m] of tasks.entries()) {
    if (!(m instanceof Y.Map)) {
      out.push('tasks holds only task maps')
      continue
    }
    const prev = before.tasks.get(k)
    if (prev && prev.item !== itemKey(m._item)) out.push(`task ${k} was replaced`)
    out.push(...taskViolations(prev ?? null, snapshotTask(m), ctx))
  }
  for (const k of before.tasks.keys()) if (!(tasks.get(k) instanceof Y.Map)) out.push(`task ${k} was removed`)
  const comments = commentsOf(after)
  if (comments._map.size > 0) out.push('comments holds no keys')
  const ids = new Set<string>()
  const present = new Set<string>()
  for (const m of comments) {
    if (!(m instanceof Y.Map)) {
      out.push('comments holds only comment maps')
      continue
    }
    const key = itemKey(m._item)!
    present.add(key)
    const prev = before.comments.get(key) ?? null
    const snap = snapshotComment(m)
    out.push(...commentViolations(prev, snap, ctx))
    if (!prev && !(tasks.get(String(snap.fields.taskId)) instanceof Y.Map)) out.push('a comment names a task of this board')
    const id = String(snap.fields.id)
    if (ids.has(id)) out.push(`comment id ${id} is not unique`)
    ids.add(id)
  }
  for (const key of before.comments.keys()) if (!present.has(key)) out.push('a comment was removed')
  out.push(...paletteViolations(after, boardLabelsOf(after).keys(), before.labels))
  if (!same([activityOf(after).toJSON(), boardMetaOf(after).toJSON()], before.serverRoots)) out.push('activity and meta are written by the server')
  for (const [name, type] of after.share) {
    if ([TASKS, COMMENTS, LABELS, ACTIVITY, BOARD_META].includes(name)) continue
    if (type._start !== null || type._map.size > 0) out.push(`unknown root "${name}"`)
  }
  return out
}
