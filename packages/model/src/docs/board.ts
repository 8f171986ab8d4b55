import * as Y from 'yjs'
import { generateKeyBetween } from 'fractional-indexing'
import { newId } from '../ids.js'
import type { Attachment } from './messages.js'

/**
 * Board layout: `board:<conversationId>` for a channel or DM, `board:<workspaceId>` for the
 * workspace's tasks that belong to no conversation.
 *
 *   root 'tasks':    Y.Map taskId → Y.Map          one map per task (never removed: `deleted`)
 *   root 'comments': Y.Array<Y.Map>                comments of every task, appended
 *   root 'labels':   Y.Map name → colour           the board's label palette
 *   root 'activity': Y.Array<ActivityEntry>        server-only: who changed what, when
 *   root 'meta':     Y.Map                         server-only: conversationId, workspaceId
 *
 * A task map holds plain values plus nested types created with the task, whose identity never
 * changes: 'title' and 'description' are Y.Text (co-edited keystroke by keystroke), 'assignees'
 * and 'labels' are Y.Map key → true, 'links' is Y.Map linkId → {taskId, kind}. Sets are flat keys
 * so two members assigning at once both win, as reactions do.
 *
 * Order is a fractional index (`position`, from the `fractional-indexing` library) within a
 * status column; ties (two clients moving into the same gap at once) break on the task id, so
 * every replica sorts the same way and nobody else's card moves.
 */
export const TASKS = 'tasks'
export const COMMENTS = 'comments'
export const LABELS = 'labels'
export const ACTIVITY = 'activity'
export const BOARD_META = 'meta'

export const TASK_STATUSES = ['backlog', 'in_progress', 'review', 'done'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]
export const LINK_KINDS = ['relates', 'blocks', 'duplicates'] as const
export type LinkKind = (typeof LINK_KINDS)[number]

export const MAX_TITLE_CHARS = 500
export const MAX_DESCRIPTION_CHARS = 40_000
export const MAX_COMMENT_CHARS = 40_000
export const MAX_ASSIGNEES = 20
export const MAX_TASK_LABELS = 20
export const MAX_LINKS = 50
export const MAX_BOARD_LABELS = 100
export const MAX_LABEL_CHARS = 40

/** Who may write each key of a task map once it exists (SPEC.md BRD2–BRD4). */
export const taskFieldOwner = {
  id: 'immutable',
  createdBy: 'immutable',
  createdAt: 'immutable',
  source: 'immutable',
  title: 'immutable',
  description: 'immutable',
  assignees: 'immutable',
  labels: 'immutable',
  links: 'immutable',
  status: 'member',
  blocked: 'member',
  position: 'member',
  dueAt: 'member',
  progress: 'member',
  parentId: 'member',
  updatedAt: 'member',
  deleted: 'member'
} as const satisfies Record<string, 'immutable' | 'member'>
export type TaskField = keyof typeof taskFieldOwner
/** The nested types of a task: created with it, never replaced. */
export const TASK_TEXTS = ['title', 'description'] as const
export const TASK_SETS = ['assignees', 'labels', 'links'] as const

export const commentFieldOwner = {
  id: 'immutable',
  taskId: 'immutable',
  author: 'immutable',
  createdAt: 'immutable',
  body: 'author',
  mentions: 'author',
  attachments: 'author',
  editedAt: 'author',
  deleted: 'authorOrAdmin'
} as const satisfies Record<string, 'immutable' | 'author' | 'authorOrAdmin'>

export interface TaskSource {
  conversationId: string
  messageId: string
}

export interface TaskLink {
  id: string
  taskId: string
  kind: LinkKind
}

export interface Task {
  id: string
  createdBy: string
  createdAt: number
  title: string
  description: string
  status: TaskStatus
  blocked: boolean
  position: string
  assignees: string[]
  labels: string[]
  links: TaskLink[]
  dueAt: number | null
  progress: number
  parentId: string | null
  updatedAt: number
  deleted: boolean
  source: TaskSource | null
}

export interface TaskComment {
  id: string
  taskId: string
  author: string
  createdAt: number
  body: string
  mentions: string[]
  /** Uploads of the author (guard rule OWN10); a deleted comment shows none. */
  attachments: Attachment[]
  editedAt: number | null
  deleted: boolean
}

export interface ActivityEntry {
  taskId: string
  actor: string
  /** What changed: a task field, or 'created' / 'commented'. */
  field: string
  from: unknown
  to: unknown
  at: number
}

export const tasksOf = (doc: Y.Doc) => doc.getMap<Y.Map<unknown>>(TASKS)
export const commentsOf = (doc: Y.Doc) => doc.getArray<Y.Map<unknown>>(COMMENTS)
export const boardLabelsOf = (doc: Y.Doc) => doc.getMap<string>(LABELS)
export const activityOf = (doc: Y.Doc) => doc.getArray<ActivityEntry>(ACTIVITY)
export const boardMetaOf = (doc: Y.Doc) => doc.getMap<unknown>(BOARD_META)

export const isTaskStatus = (v: unknown): v is TaskStatus => typeof v === 'string' && (TASK_STATUSES as readonly string[]).includes(v)
export const isLinkKind = (v: unknown): v is LinkKind => typeof v === 'string' && (LINK_KINDS as readonly string[]).includes(v)
/**
 * A fractional-indexing order key, bounded so a forged key cannot grow the doc. Base62 alone is
 * not enough: the library throws on a key it did not make ('evil', 'a00', the smallest integer),
 * and every client places cards next to its neighbours' keys.
 */
export function isPosition(v: unknown): v is string {
  if (typeof v !== 'string' || !/^[0-9A-Za-z]{1,64}$/.test(v)) return false
  try {
    generateKeyBetween(v, null)
    return true
  } catch {
    return false
  }
}

const textOf = (map: Y.Map<unknown>, key: string) => {
  const t = map.get(key)
  return t instanceof Y.Text ? t.toString() : ''
}
const keysOf = (map: Y.Map<unknown>, key: string) => {
  const m = map.get(key)
  return m instanceof Y.Map ? [...m.keys()].filter((k) => m.get(k) === true).sort() : []
}

export function readTask(map: Y.Map<unknown>): Task {
  const links: TaskLink[] = []
  const l = map.get('links')
  if (l instanceof Y.Map) {
    for (const [id, v] of l.entries()) {
      const link = v as { taskId?: unknown; kind?: unknown }
      if (typeof link?.taskId === 'string' && isLinkKind(link.kind)) links.push({ id, taskId: link.taskId, kind: link.kind })
    }
  }
  const status = map.get('status')
  const progress = map.get('progress')
  return {
    id: String(map.get('id')),
    createdBy: String(map.get('createdBy')),
    createdAt: Number(map.get('createdAt')),
    title: textOf(map, 'title'),
    description: textOf(map, 'description'),
    status: isTaskStatus(status) ? status : 'backlog',
    blocked: map.get('blocked') === true,
    position: isPosition(map.get('position')) ? (map.get('position') as string) : 'a0',
    assignees: keysOf(map, 'assignees'),
    labels: keysOf(map, 'labels'),
    links,
    dueAt: typeof map.get('dueAt') === 'number' ? (map.get('dueAt') as number) : null,
    progress: typeof progress === 'number' ? progress : 0,
    parentId: typeof map.get('parentId') === 'string' ? (map.get('parentId') as string) : null,
    updatedAt: Number(map.get('updatedAt') ?? map.get('createdAt')),
    deleted: map.get('deleted') === true,
    source: (map.get('source') as TaskSource | undefined) ?? null
  }
}

/** Orders tasks the way every replica does: by position, ties by id. */
export const compareTasks = (a: Pick<Task, 'position' | 'id'>, b: Pick<Task, 'position' | 'id'>) =>
  a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

/** Every task not deleted, in board order. */
export function listTasks(doc: Y.Doc): Task[] {
  const out: Task[] = []
  for (const map of tasksOf(doc).values()) if (map instanceof Y.Map && map.get('deleted') !== true) out.push(readTask(map))
  return out.sort(compareTasks)
}

/**
 * Calls `onChange` with the board's tasks in board order now and after every change, re-reading
 * only the tasks a change touched: a keystroke in one description must not re-read every card
 * (5,000 cards take ~70 ms to read whole). Returns the unsubscribe.
 */
export function followTasks(doc: Y.Doc, onChange: (tasks: Task[]) => void): () => void {
  const tasks = tasksOf(doc)
  const byId = new Map<string, Task>()
  for (const t of listTasks(doc)) byId.set(t.id, t)
  const publish = () => onChange([...byId.values()].sort(compareTasks))
  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const touched = new Set<string>()
    for (const e of events) {
      if (e.target === tasks) for (const key of e.keys.keys()) touched.add(key)
      else touched.add(String(e.path[0]))
    }
    for (const id of touched) {
      const map = findTask(doc, id)
      if (map) byId.set(id, readTask(map))
      else byId.delete(id)
    }
    publish()
  }
  publish()
  tasks.observeDeep(observer)
  return () => tasks.unobserveDeep(observer)
}

export function findTask(doc: Y.Doc, id: string): Y.Map<unknown> | null {
  const map = tasksOf(doc).get(id)
  return map instanceof Y.Map && map.get('deleted') !== true ? map : null
}

export function readComment(map: Y.Map<unknown>): TaskComment {
  return {
    id: String(map.get('id')),
    taskId: String(map.get('taskId')),
    author: String(map.get('author')),
    createdAt: Number(map.get('createdAt')),
    body: map.get('deleted') === true ? '' : String(map.get('body') ?? ''),
    mentions: (map.get('mentions') as string[] | undefined) ?? [],
    attachments: map.get('deleted') === true ? [] : ((map.get('attachments') as Attachment[] | undefined) ?? []),
    editedAt: (map.get('editedAt') as number | undefined) ?? null,
    deleted: map.get('deleted') === true
  }
}

/** Comments of one task (or all), oldest first, deleted ones left out. */
export function listComments(doc: Y.Doc, taskId?: string): TaskComment[] {
  const out: TaskComment[] = []
  for (const m of commentsOf(doc)) {
    if (!(m instanceof Y.Map) || m.get('deleted') === true) continue
    if (taskId === undefined || m.get('taskId') === taskId) out.push(readComment(m))
  }
  return out
}

export function findComment(doc: Y.Doc, id: string): Y.Map<unknown> | null {
  const arr = commentsOf(doc)
  for (let i = arr.length - 1; i >= 0; i--) {
    const m = arr.get(i)
    if (m instanceof Y.Map && m.get('id') === id) return m
  }
  return null
}

/** Subtasks of a task: tasks whose parentId names it, in board order. */
export const subtasksOf = (tasks: Task[], parentId: string) => tasks.filter((t) => t.parentId === parentId)

/** A position between two neighbours (either may be null: the column's start or end). */
export function positionBetween(before: string | null, after: string | null): string {
  // Neighbours that tie (concurrent moves) or are out of order have no key between them:
  // place after `before`, which keeps the tie-break order stable.
  if (before !== null && after !== null && before >= after) return generateKeyBetween(before, null)
  return generateKeyBetween(before, after)
}

/** The position for the end (or start) of a column. */
export function positionAtEdge(tasks: Task[], status: TaskStatus, edge: 'top' | 'bottom'): string {
  const column = tasks.filter((t) => t.status === status)
  if (column.length === 0) return positionBetween(null, null)
  return edge === 'top' ? positionBetween(null, column[0]!.position) : positionBetween(column[column.length - 1]!.position, null)
}

export interface NewTask {
  id?: string
  createdBy: string
  title: string
  description?: string
  status?: TaskStatus
  position?: string
  assignees?: string[]
  labels?: string[]
  dueAt?: number | null
  progress?: number
  parentId?: string | null
  source?: TaskSource
  createdAt?: number
}

/** Creates a task with every nested type it will ever have; returns its id. */
export function createTask(doc: Y.Doc, input: NewTask, origin?: unknown): string {
  const id = input.id ?? newId('task')
  const now = input.createdAt ?? Date.now()
  const status = input.status ?? 'backlog'
  doc.transact(() => {
    const map = new Y.Map<unknown>()
    map.set('id', id)
    map.set('createdBy', input.createdBy)
    map.set('createdAt', now)
    map.set('updatedAt', now)
    map.set('status', status)
    map.set('position', input.position ?? positionAtEdge(listTasks(doc), status, 'bottom'))
    map.set('progress', input.progress ?? 0)
    if (input.dueAt != null) map.set('dueAt', input.dueAt)
    if (input.parentId) map.set('parentId', input.parentId)
    if (input.source) map.set('source', input.source)
    map.set('title', new Y.Text(input.title))
    map.set('description', new Y.Text(input.description ?? ''))
    const assignees = new Y.Map<boolean>()
    for (const m of input.assignees ?? []) assignees.set(m, true)
    map.set('assignees', assignees)
    const labels = new Y.Map<boolean>()
    for (const l of input.labels ?? []) labels.set(l, true)
    map.set('labels', labels)
    map.set('links', new Y.Map())
    tasksOf(doc).set(id, map)
  }, origin)
  return id
}

/** Plain fields a member may set after creation. */
export interface TaskPatch {
  status?: TaskStatus
  blocked?: boolean
  position?: string
  dueAt?: number | null
  progress?: number
  parentId?: string | null
}

/** Rewrites a Y.Text to `next` by its changed middle only, so concurrent typing elsewhere survives. */
export function replaceText(text: Y.Text, next: string) {
  const cur = text.toString()
  if (cur === next) return
  let start = 0
  while (start < cur.length && start < next.length && cur[start] === next[start]) start++
  let end = 0
  while (end < cur.length - start && end < next.length - start && cur[cur.length - 1 - end] === next[next.length - 1 - end]) end++
  text.delete(start, cur.length - start - end)
  text.insert(start, next.slice(start, next.length - end))
}

export function updateTask(doc: Y.Doc, id: string, patch: TaskPatch & { title?: string; description?: string }, origin?: unknown): boolean {
  const map = findTask(doc, id)
  if (!map) return false
  doc.transact(() => {
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue
      if (k === 'title' || k === 'description') replaceText(map.get(k) as Y.Text, v as string)
      else if (v === null) map.delete(k)
      else map.set(k, v)
    }
    map.set('updatedAt', Date.now())
  }, origin)
  return true
}

/** Adds or removes keys of one of a task's sets (assignees, labels). */
export function setTaskKeys(doc: Y.Doc, id: string, set: 'assignees' | 'labels', keys: { add?: string[]; remove?: string[] }, origin?: unknown): boolean {
  const map = findTask(doc, id)
  const target = map?.get(set)
  if (!map || !(target instanceof Y.Map)) return false
  doc.transact(() => {
    for (const k of keys.remove ?? []) if (target.has(k)) target.delete(k)
    for (const k of keys.add ?? []) if (target.get(k) !== true) target.set(k, true)
    map.set('updatedAt', Date.now())
  }, origin)
  return true
}

export function addTaskLink(doc: Y.Doc, id: string, link: { taskId: string; kind: LinkKind }, origin?: unknown): string | null {
  const links = findTask(doc, id)?.get('links')
  if (!(links instanceof Y.Map)) return null
  const linkId = newId('link')
  doc.transact(() => links.set(linkId, { taskId: link.taskId, kind: link.kind }), origin)
  return linkId
}

export function removeTaskLink(doc: Y.Doc, id: string, linkId: string, origin?: unknown): boolean {
  const links = findTask(doc, id)?.get('links')
  if (!(links instanceof Y.Map) || !links.has(linkId)) return false
  doc.transact(() => links.delete(linkId), origin)
  return true
}


/** Soft delete: the map stays so its id stays taken and links to it can say "deleted". */
export function deleteTask(doc: Y.Doc, id: string, origin?: unknown): boolean {
  const map = findTask(doc, id)
  if (!map) return false
  doc.transact(() => {
    map.set('deleted', true)
    map.set('updatedAt', Date.now())
  }, origin)
  return true
}

export function addComment(doc: Y.Doc, input: { id?: string; taskId: string; author: string; body: string; mentions?: string[]; attachments?: Attachment[]; createdAt?: number }, origin?: unknown): string {
  const id = input.id ?? newId('taskComment')
  const map = new Y.Map<unknown>()
  map.set('id', id)
  map.set('taskId', input.taskId)
  map.set('author', input.author)
  map.set('createdAt', input.createdAt ?? Date.now())
  map.set('body', input.body)
  if (input.mentions?.length) map.set('mentions', input.mentions)
  if (input.attachments?.length) map.set('attachments', input.attachments)
  doc.transact(() => commentsOf(doc).push([map]), origin)
  return id
}

export function editComment(doc: Y.Doc, id: string, body: string, mentions: string[], origin?: unknown): boolean {
  const m = findComment(doc, id)
  if (!m || m.get('deleted') === true) return false
  doc.transact(() => {
    m.set('body', body)
    m.set('mentions', mentions)
    m.set('editedAt', Date.now())
  }, origin)
  return true
}

/** Replaces a comment's attachments (its author's own uploads, OWN10); an empty list removes them all. */
export function editCommentAttachments(doc: Y.Doc, id: string, attachments: Attachment[], origin?: unknown): boolean {
  const m = findComment(doc, id)
  if (!m || m.get('deleted') === true) return false
  doc.transact(() => {
    m.set('attachments', attachments)
    m.set('editedAt', Date.now())
  }, origin)
  return true
}

export function deleteComment(doc: Y.Doc, id: string, origin?: unknown): boolean {
  const m = findComment(doc, id)
  if (!m || m.get('deleted') === true) return false
  doc.transact(() => {
    m.set('deleted', true)
    m.set('body', '')
  }, origin)
  return true
}

/** Activity entries a board keeps: the newest ones; older history is dropped. */
export const MAX_ACTIVITY = 2000

/** Server-only: records who changed what on a task, keeping the newest MAX_ACTIVITY entries. */
export function appendActivity(doc: Y.Doc, entries: ActivityEntry[], origin?: unknown) {
  if (!entries.length) return
  doc.transact(() => {
    const activity = activityOf(doc)
    activity.push(entries)
    if (activity.length > MAX_ACTIVITY) activity.delete(0, activity.length - MAX_ACTIVITY)
  }, origin)
}

export function activityOfTask(doc: Y.Doc, taskId: string): ActivityEntry[] {
  return activityOf(doc).toArray().filter((e) => e.taskId === taskId)
}

/** What an archived task keeps, as it last stood on its board. */
export interface ArchivedTask {
  task: Task
  comments: TaskComment[]
  activity: ActivityEntry[]
}

/**
 * Done tasks last changed before `before`, oldest first, at most `limit`, read for the archive
 * (server side: they then leave the doc, see removeTasks). O(tasks + comments + activity).
 */
export function archivableTasks(doc: Y.Doc, before: number, limit: number): ArchivedTask[] {
  const due: Task[] = []
  for (const map of tasksOf(doc).values()) {
    if (!(map instanceof Y.Map) || map.get('deleted') === true || map.get('status') !== 'done') continue
    const task = readTask(map)
    if (task.updatedAt < before) due.push(task)
  }
  due.sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1))
  const out = new Map(due.slice(0, limit).map((task): [string, ArchivedTask] => [task.id, { task, comments: [], activity: [] }]))
  for (const c of listComments(doc)) out.get(c.taskId)?.comments.push(c)
  for (const e of activityOf(doc)) out.get(e.taskId)?.activity.push(e)
  return [...out.values()]
}

/** Server-only: takes archived tasks and their comments out of the live doc. */
export function removeTasks(doc: Y.Doc, ids: Iterable<string>, origin?: unknown) {
  const gone = new Set(ids)
  doc.transact(() => {
    for (const id of gone) tasksOf(doc).delete(id)
    const comments = commentsOf(doc)
    for (let i = comments.length - 1; i >= 0; i--) {
      const m = comments.get(i)
      if (m instanceof Y.Map && gone.has(String(m.get('taskId')))) comments.delete(i, 1)
    }
  }, origin)
}

/** The fields that differ between two reads of a task, as activity (server side). */
export function taskChanges(before: Task, after: Task, actor: string, at: number): ActivityEntry[] {
  const out: ActivityEntry[] = []
  for (const field of ['status', 'blocked', 'assignees', 'labels', 'dueAt', 'progress', 'parentId', 'deleted'] as const) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) out.push({ taskId: after.id, actor, field, from: before[field], to: after[field], at })
  }
  if (before.title !== after.title) out.push({ taskId: after.id, actor, field: 'title', from: before.title, to: after.title, at })
  return out
}

export function setBoardLabel(doc: Y.Doc, name: string, colour: string, origin?: unknown) {
  doc.transact(() => boardLabelsOf(doc).set(name, colour), origin)
}

/** Server-only: stamps which conversation (or workspace) the board belongs to. */
export function initBoard(doc: Y.Doc, meta: { conversationId: string | null; workspaceId: string }, origin?: unknown) {
  const m = boardMetaOf(doc)
  if (m.get('workspaceId') === meta.workspaceId) return
  doc.transact(() => {
    m.set('workspaceId', meta.workspaceId)
    m.set('conversationId', meta.conversationId)
  }, origin)
}

/** Label colours a board offers; a label is stored with one of these. */
export const LABEL_COLOURS = ['gray', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink'] as const
export const isLabelColour = (v: unknown) => typeof v === 'string' && (LABEL_COLOURS as readonly string[]).includes(v)
export const isLabelName = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_LABEL_CHARS && !/[\n\r\t]/.test(v)
