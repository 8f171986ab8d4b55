import * as Y from 'yjs'
import {
  TASKS, COMMENTS, LABELS, ACTIVITY, BOARD_META, MAX_BOARD_LABELS, TASK_TEXTS, TASK_SETS, taskFieldOwner, commentFieldOwner,
  taskTextBound, taskSetBound, isTaskText, isTaskSet, REMOVABLE_TASK_FIELDS, NEW_TASK_FIELDS, taskFieldProblem,
  taskSetProblem, commentFieldProblem, paletteProblem, tasksOf, boardLabelsOf, type Attachment, type BoardWriteContext, type TaskSet
} from '@circlechat/model'
import { rejectReason as R, type RejectReason } from '@circlechat/protocol'
import { refuse } from '../verdict.js'
import { plainValue, isNewMap, typeOf, type KeyWrite, type Loc, type NodeRef, type UpdateIndex } from '../resolve.js'
import { checkAttachment, type MessageRuleContext } from './messages.js'

export interface BoardRuleContext extends BoardWriteContext {
  /** True if a task with this id exists on any board (the task index). */
  taskIdTaken(id: string): boolean
  /** True if a comment with this id exists on this board. */
  commentIdTaken(id: string): boolean
  /** The upload a comment's attachment names (OWN10); without it, no attachment is accepted. */
  fileOf?: MessageRuleContext['fileOf']
}

export interface BoardCheck {
  newTasks: number
  newComments: number
  /** Existing task and comment maps the update changes: the relay snapshots them to re-check. */
  touchedTasks: Y.Map<unknown>[]
  touchedComments: Y.Map<unknown>[]
}

const REMOVED = Symbol('removed')
const idKey = (id: Y.ID) => `${id.client}:${id.clock}`

interface TaskWrites {
  task: NodeRef
  fields: Map<string, KeyWrite>
}
interface CommentWrites {
  comment: NodeRef
  fields: Map<string, KeyWrite>
}
/** Plain-text edits of one task's title or description. */
interface TextWrites {
  task: NodeRef
  text: NodeRef
  key: 'title' | 'description'
  added: number
  removed: number
}
/** Key writes of one keyed set: a task's assignees, labels or links, or the board's palette. */
interface SetWrites {
  node: NodeRef | null
  set: TaskSet | 'palette'
  writes: KeyWrite[]
}

/**
 * BRD1–BRD6 (packages/model/SPEC.md) for `board:` docs, decided on what Yjs will do with the
 * update (see resolve.ts), O(update): every item of a chain of edits is checked, where an edit
 * may or may not win its key every outcome must keep the rules, and text is counted as it will
 * land, in the text it will land in.
 */
export function checkBoardUpdate(index: UpdateIndex, ctx: BoardRuleContext): BoardCheck {
  const tasks = new Map<string, TaskWrites>()
  const comments = new Map<string, CommentWrites>()
  const texts = new Map<string, TextWrites>()
  const sets = new Map<string, SetWrites>()
  const taskEntry = (node: NodeRef) => {
    let e = tasks.get(idKey(node.id))
    if (!e) tasks.set(idKey(node.id), (e = { task: node, fields: new Map() }))
    return e
  }
  const commentEntry = (node: NodeRef) => {
    let e = comments.get(idKey(node.id))
    if (!e) comments.set(idKey(node.id), (e = { comment: node, fields: new Map() }))
    return e
  }

  // List items: text in a task's title or description, or a new comment.
  const freshComments: Y.Item[] = []
  for (const item of index.items) {
    const loc = index.loc(item)
    checkRoot(loc)
    if (loc.sub !== null) continue
    if (loc.root === COMMENTS && loc.chain.length === 0) {
      if (!isNewMap(item)) refuse(R.invalidField, 'comments holds only comment maps')
      if (index.endsDeleted(item)) refuse(R.notAuthor, 'comments are never removed; set deleted instead')
      freshComments.push(item)
      commentEntry({ id: item.id, live: null, fresh: item })
      continue
    }
    const t = textWrites(index, texts, loc)
    if (!(item.content instanceof Y.ContentString) && !(item.content instanceof Y.ContentDeleted)) refuse(R.invalidField, `"${t.key}" holds plain text only: no formatting, embeds or nested types`)
    if (item.content instanceof Y.ContentString && !index.endsDeleted(item)) t.added += item.length
  }
  for (const item of index.deletedLive) {
    const loc = index.liveLoc(item)
    checkRoot(loc)
    if (item.parentSub !== null) continue
    if (loc.root === COMMENTS && loc.chain.length === 0) refuse(R.notAuthor, 'comments are never removed; set deleted instead')
    const t = textWrites(index, texts, loc)
    if (item.countable) t.removed += index.deletedLength(item)
  }

  // Keyed writes: new tasks, task fields, set keys, comment fields, the palette.
  const freshTasks = new Map<string, Y.Item>()
  for (const w of index.keyWrites()) {
    checkRoot(w.loc)
    if (!w.chain) refuse(R.duplicateKey, `"${w.loc.sub}" is written twice at once; only one would win`)
    const { root, chain } = w.loc
    if (root === LABELS) {
      if (chain.length !== 0) refuse(R.invalidField, 'labels holds colours by name')
      setEntry(sets, null, 'palette').writes.push(w)
    } else if (root === COMMENTS) {
      if (chain.length !== 1) refuse(R.invalidField, 'comments holds comment maps of plain values')
      commentEntry(chain[0]!).fields.set(w.loc.sub!, w)
    } else if (chain.length === 0) {
      freshTasks.set(w.loc.sub!, checkTaskKey(index, w))
    } else if (chain.length === 1) {
      taskEntry(chain[0]!).fields.set(w.loc.sub!, w)
    } else if (chain.length === 2) {
      const name = nestedKey(index, chain[1]!)
      if (!isTaskSet(name) || !(typeOf(chain[1]!) instanceof Y.Map) || chain[1]!.live?.deleted) refuse(R.invalidField, 'nothing may be keyed there')
      taskEntry(chain[0]!)
      setEntry(sets, chain[1]!, name as TaskSet).writes.push(w)
    } else {
      refuse(R.invalidField, 'nothing may be nested there')
    }
  }

  for (const t of texts.values()) {
    taskEntry(t.task)
    // A text new in this update holds only what the update adds (and is not readable yet).
    const live = t.text.fresh ? 0 : (typeOf(t.text) as Y.Text).length
    const bound = taskTextBound[t.key]
    if (t.added > 0 && live + t.added - t.removed > bound) refuse(R.invalidField, `"${t.key}" is at most ${bound} characters`)
  }
  for (const s of sets.values()) checkSet(index, s)

  const touchedTasks: Y.Map<unknown>[] = []
  for (const entry of tasks.values()) {
    if (entry.task.fresh) {
      const key = index.loc(entry.task.fresh).sub!
      if (freshTasks.get(key) !== entry.task.fresh) refuse(R.invalidField, 'tasks holds task maps by id')
      checkNewTask(index, entry, key, ctx)
    } else {
      const type = typeOf(entry.task)
      if (!(type instanceof Y.Map)) refuse(R.invalidField, 'tasks holds only task maps')
      checkLiveTask(entry, type as Y.Map<unknown>, ctx)
      touchedTasks.push(type as Y.Map<unknown>)
    }
  }
  for (const key of freshTasks.keys()) if (!tasks.has(idKey(freshTasks.get(key)!.id))) refuse(R.invalidField, 'a new task carries its fields')

  const touchedComments: Y.Map<unknown>[] = []
  const seen = new Set<string>()
  for (const entry of comments.values()) {
    if (entry.comment.fresh) {
      checkNewComment(index, entry, ctx, seen, freshTasks)
    } else {
      const type = typeOf(entry.comment)
      if (!(type instanceof Y.Map)) refuse(R.invalidField, 'comments holds only comment maps')
      checkLiveComment(index, entry, type as Y.Map<unknown>, ctx)
      touchedComments.push(type as Y.Map<unknown>)
    }
  }
  return { newTasks: freshTasks.size, newComments: freshComments.length, touchedTasks, touchedComments }
}

function checkRoot(loc: Loc) {
  if (loc.root === ACTIVITY || loc.root === BOARD_META) refuse(R.serverOnlyField, `${loc.root} is written by the server`)
  if (loc.root !== TASKS && loc.root !== COMMENTS && loc.root !== LABELS) refuse(R.invalidField, `unknown root "${loc.root}"`)
}

/** The key a container sits under in its parent map (null: a list item). */
const nestedKey = (index: UpdateIndex, node: NodeRef): string | null => (node.live ? node.live.parentSub : index.loc(node.fresh!).sub)

/** The text a list item (or a deleted one) is in: only a task's own title or description. */
function textWrites(index: UpdateIndex, texts: Map<string, TextWrites>, loc: Loc): TextWrites {
  const [task, text] = loc.chain
  if (loc.root !== TASKS || loc.chain.length !== 2) refuse(R.invalidField, 'text goes only into a task\'s title or description')
  const key = nestedKey(index, text!)
  if (!isTaskText(key) || !(typeOf(text!) instanceof Y.Text) || text!.live?.deleted) refuse(R.invalidField, 'text goes only into a task\'s title or description')
  let t = texts.get(idKey(text!.id))
  if (!t) texts.set(idKey(text!.id), (t = { task: task!, text: text!, key: key as 'title' | 'description', added: 0, removed: 0 }))
  return t
}

function setEntry(sets: Map<string, SetWrites>, node: NodeRef | null, set: TaskSet | 'palette'): SetWrites {
  const k = node ? idKey(node.id) : 'palette'
  let s = sets.get(k)
  if (!s) sets.set(k, (s = { node, set, writes: [] }))
  return s
}

/** A write under `tasks` itself: only a new task map, under a fresh key. */
function checkTaskKey(index: UpdateIndex, w: KeyWrite): Y.Item {
  const current = tasksOfIndex(index)._map.get(w.loc.sub!)
  if (current && w.items.length > 0) refuse(R.immutableField, 'a task is never replaced')
  if (w.liveDeletes.length > 0 || w.mayRemove) refuse(R.notAuthor, 'tasks are never removed; set deleted instead')
  const item = w.items[0]!
  if (w.items.length !== 1 || !w.certain || !isNewMap(item) || index.endsDeleted(item)) refuse(R.invalidField, 'a new task is one map under its own id')
  return item
}
const tasksOfIndex = (index: UpdateIndex) => tasksOf(index.doc) as unknown as Y.Map<unknown>

/** The value an item gives its key, or REMOVED if it ends deleted. */
const valueOf = (index: UpdateIndex, item: Y.Item): unknown => (index.endsDeleted(item) ? REMOVED : plainValue(item))

/** Every value a key may hold once the update is applied (`type` null: a map new here). */
function ends(index: UpdateIndex, w: KeyWrite | undefined, type: Y.Map<unknown> | null, key: string): unknown[] {
  const current = type?.has(key) ? type.get(key) : REMOVED
  if (!w) return [current]
  if (w.certain) return [valueOf(index, w.items[w.items.length - 1]!)]
  const out = w.items.filter((i) => !index.endsDeleted(i)).map(plainValue)
  if (w.liveDeletes.length === 0) out.push(current)
  if (w.mayRemove || current === REMOVED) out.push(REMOVED)
  return out
}

/** Each value written for a plain key, by `problem`; a ContentDeleted item is a removal. */
function checkValues(w: KeyWrite, problem: (v: unknown) => string | null, reason: RejectReason = R.invalidField) {
  for (const item of w.items) {
    if (item.content instanceof Y.ContentDeleted) continue
    const p = problem(plainValue(item))
    if (p) refuse(reason, p)
  }
}

function checkSet(index: UpdateIndex, s: SetWrites) {
  const type = (s.node ? typeOf(s.node) : boardLabelsOf(index.doc)) as Y.Map<unknown>
  const bound = s.set === 'palette' ? MAX_BOARD_LABELS : taskSetBound[s.set]
  let size = s.node?.fresh ? 0 : type.size
  for (const w of s.writes) {
    const key = w.loc.sub!
    const problem = (v: unknown) => (s.set === 'palette' ? paletteProblem(key, v) : taskSetProblem(s.set, key, v))
    for (const item of w.items) {
      const p = problem(item.content instanceof Y.ContentDeleted ? undefined : (plainValue(item) ?? null))
      if (p) refuse(R.invalidField, p)
    }
    if (w.mayRemove) {
      const p = problem(undefined)
      if (p) refuse(R.invalidField, p)
    }
    const current = s.node?.fresh ? undefined : type._map.get(key)
    if ((!current || current.deleted) && w.items.some((i) => !index.endsDeleted(i))) size++
  }
  if (size > bound && s.writes.some((w) => w.items.length > 0)) refuse(R.invalidField, s.set === 'palette' ? `a board has at most ${bound} labels` : `a task has at most ${bound} ${s.set}`)
}

function checkNewTask(index: UpdateIndex, entry: TaskWrites, key: string, ctx: BoardRuleContext) {
  for (const [field, w] of entry.fields) {
    if (isTaskText(field) || isTaskSet(field)) {
      const item = w.items[0]!
      const kind = isTaskText(field) ? Y.Text : Y.Map
      if (w.items.length !== 1 || !w.certain || !(item.content instanceof Y.ContentType) || !(item.content.type instanceof kind) || index.endsDeleted(item)) {
        refuse(R.invalidField, `a new task carries one ${isTaskText(field) ? 'Y.Text' : 'Y.Map'} "${field}"`)
      }
      continue
    }
    if (!Object.hasOwn(taskFieldOwner, field) || !NEW_TASK_FIELDS.has(field)) refuse(R.invalidField, `"${field}" cannot be set on a new task`)
    checkValues(w, (v) => taskFieldProblem(field, v, key, ctx))
  }
  for (const field of [...TASK_TEXTS, ...TASK_SETS]) if (!entry.fields.has(field)) refuse(R.invalidField, `a new task carries "${field}"`)
  for (const field of ['id', 'createdBy', 'createdAt'] as const) {
    for (const v of ends(index, entry.fields.get(field), null, field)) {
      const problem = v === REMOVED ? `a new task carries "${field}"` : taskFieldProblem(field, v, key, ctx)
      if (problem) refuse(R.invalidField, problem)
    }
  }
  if (ctx.taskIdTaken(key)) refuse(R.immutableField, 'task id already exists')
}

function checkLiveTask(entry: TaskWrites, type: Y.Map<unknown>, ctx: BoardRuleContext) {
  const id = String(type.get('id'))
  for (const [field, w] of entry.fields) {
    const owner = Object.hasOwn(taskFieldOwner, field) ? taskFieldOwner[field as keyof typeof taskFieldOwner] : null
    if (owner === null) refuse(R.invalidField, `unknown task field "${field}"`)
    if (owner === 'immutable') refuse(R.immutableField, `"${field}" never changes`)
    checkValues(w, (v) => taskFieldProblem(field, v, id, ctx))
    if (w.mayRemove && !REMOVABLE_TASK_FIELDS.has(field)) refuse(R.invalidField, field === 'deleted' ? 'deleted stays set' : `"${field}" is never removed`)
  }
}

function checkNewComment(index: UpdateIndex, entry: CommentWrites, ctx: BoardRuleContext, seen: Set<string>, freshTasks: Map<string, Y.Item>) {
  for (const [field, w] of entry.fields) {
    if (!Object.hasOwn(commentFieldOwner, field)) refuse(R.invalidField, `"${field}" is not a comment field`)
    checkValues(w, (v) => commentFieldProblem(field, v, ctx), field === 'author' ? R.notAuthor : R.invalidField)
    if (field === 'attachments') checkAttachments(w, ctx)
  }
  const final = (field: string) => ends(index, entry.fields.get(field), null, field)
  for (const field of ['id', 'taskId', 'author', 'createdAt', 'body'] as const) {
    for (const v of final(field)) {
      const problem = v === REMOVED ? `a new comment carries "${field}"` : commentFieldProblem(field, v, ctx)
      if (problem) refuse(field === 'author' ? R.notAuthor : R.invalidField, problem)
    }
  }
  const id = final('id')[0] as string
  if (seen.has(id) || ctx.commentIdTaken(id)) refuse(R.immutableField, 'comment id already exists')
  seen.add(id)
  const taskId = final('taskId')[0] as string
  if (!(tasksOfIndex(index).get(taskId) instanceof Y.Map) && !freshTasks.has(taskId)) refuse(R.invalidField, 'a comment names a task of this board')
  if (final('deleted').includes(true) && !final('body').every((v) => v === '')) refuse(R.invalidField, 'a deleted comment stays empty')
}

function checkLiveComment(index: UpdateIndex, entry: CommentWrites, type: Y.Map<unknown>, ctx: BoardRuleContext) {
  const isAuthor = type.get('author') === ctx.sender
  const liveDeleted = type.get('deleted') === true
  const final = (field: string) => ends(index, entry.fields.get(field), type, field)
  for (const [field, w] of entry.fields) {
    const owner = Object.hasOwn(commentFieldOwner, field) ? commentFieldOwner[field as keyof typeof commentFieldOwner] : null
    if (owner === null) refuse(R.invalidField, `unknown comment field "${field}"`)
    if (owner === 'immutable') refuse(R.immutableField, `"${field}" never changes`)
    checkValues(w, (v) => commentFieldProblem(field, v, ctx))
    if (field === 'attachments') checkAttachments(w, ctx)
    if (owner === 'authorOrAdmin') {
      if (!isAuthor && !ctx.isAdmin) refuse(R.notAuthor, 'only the author or an admin may delete')
      if (w.mayRemove) refuse(R.invalidField, 'deleted stays set')
      continue
    }
    // Moderation: an admin may empty someone's body, nothing else.
    const moderating = field === 'body' && ctx.isAdmin && final('body').every((v) => v === '' || v === REMOVED)
    if (!isAuthor && !moderating) refuse(R.notAuthor, `only the author may change "${field}"`)
    if (liveDeleted && field !== 'body') refuse(R.invalidField, 'the comment is deleted')
  }
  const mayBeDeleted = liveDeleted || final('deleted').includes(true)
  if (mayBeDeleted && !final('body').every((v) => v === '' || v === REMOVED)) refuse(R.invalidField, 'a deleted comment stays empty')
}

/** OWN10 for a comment's attachments: each written list names only the sender's own uploads. */
function checkAttachments(w: KeyWrite, ctx: BoardRuleContext) {
  for (const item of w.items) {
    if (item.content instanceof Y.ContentDeleted) continue
    for (const a of plainValue(item) as Attachment[]) checkAttachment(a, ctx)
  }
}
