import type * as Y from 'yjs'
import { eq } from 'drizzle-orm'
import { members, tasks as taskIndex } from '@circlechat/db'
import {
  LABEL_COLOURS, MAX_ASSIGNEES, MAX_BOARD_LABELS, MAX_COMMENT_CHARS, MAX_DESCRIPTION_CHARS, MAX_LINKS, MAX_MENTIONS,
  MAX_TASK_LABELS, MAX_TITLE_CHARS, TASK_STATUSES, activityOfTask, addComment, addTaskLink, appendActivity,
  boardLabelsOf, compareTasks, createTask, deleteComment, deleteTask, docName, editComment, editCommentAttachments, findComment, findTask,
  initBoard, isId, isLabelName, isPosition, listComments, listTasks, positionAtEdge, readComment, readTask,
  removeTaskLink, setBoardLabel, setTaskKeys, subtasksOf, taskChanges, updateTask,
  type ActivityEntry, type ArchivedTask, type LinkKind, type Task, type TaskComment, type TaskLink, type TaskPatch, type TaskSource, type TaskStatus
} from '@circlechat/model'
import type { Origin } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { ApiError, badRequest, conflict, forbidden, notFound } from '../errors.js'
import { activeMemberIds, memberIdsOf } from './conversation-store.js'
import { requireMembership, requireWritable, type Actor } from './conversations.js'
import { getMessage, resolveMentions } from './messages.js'
import { resolveAttachments, type AttachmentInput } from './files.js'
import { notifyTaskMentions } from './task-mentions.js'
import {
  taskCommentShape, taskShape, type ConversationRow, type TaskActivityJson, type TaskCommentJson, type TaskJson, type TaskLinkJson
} from './shapes.js'
import { guestIds, workspaceBoardOf } from './guests.js'

/**
 * Tasks, for REST and the agent runtime. Reads come from board docs (`board:<conversationId>`,
 * or `board:<workspaceId>` for tasks tied to no conversation, SPEC.md ACC5); every write is one
 * server-authored transaction on the board doc through gw.sync, durable before it resolves, and
 * records activity with the actor. A board is readable and writable by the members of its
 * conversation (any workspace member for the workspace board), checked at the moment of use; a
 * task on a board the actor cannot read is the same 404 as a missing one.
 */

export type { Actor }

/** Agent runs pass their own origin so their edits are attributed (and never re-triggered). */
export interface TaskWriteOptions {
  origin?: Origin
}

export interface TaskFilters {
  /** A conversation id, or the workspace id for the workspace board. */
  conversationId?: string
  /** A member id, or 'me'. */
  assignee?: string
  status?: TaskStatus
}

export interface CreateTaskInput {
  /** Absent or null: the workspace board (or, with `source`, the source message's conversation). */
  conversationId?: string | null
  title: string
  bodyMd?: string
  status?: TaskStatus
  assignees?: string[]
  labels?: string[]
  dueAt?: number | null
  progress?: number
  parentId?: string | null
  /** "Create task from message": the message must exist and be readable by the actor. */
  source?: TaskSource
}

export interface PatchTaskInput {
  title?: string
  bodyMd?: string
  status?: TaskStatus
  blocked?: boolean
  progress?: number
  dueAt?: number | null
  position?: string
  parentId?: string | null
}

const taskNotFound = () => notFound('task_not_found', 'No such task, or you cannot see it.')
const commentNotFound = () => notFound('comment_not_found', 'No such comment on this task.')
const originOf = (actor: Actor, opts: TaskWriteOptions): Origin => opts.origin ?? { source: 'rest', memberId: actor.member.id }

interface Board {
  /** The board doc's scope id: a conversation id, or the workspace id. */
  scope: string
  doc: string
  conversation: ConversationRow | null
}

interface Loaded {
  board: Board
  doc: Y.Doc
  /** Live tasks in board order. */
  tasks: Task[]
}

/** The board of a scope if the actor may use it now; otherwise `missing()` (a 404). */
function requireBoard(gw: Gateway, actor: Actor, scope: string, missing: () => ApiError = taskNotFound): Board {
  if (scope === actor.workspace.id) {
    if (workspaceBoardOf(actor) === null) throw missing() // guests see only their channels' boards
    return { scope, doc: docName.board(scope), conversation: null }
  }
  let conversation: ConversationRow
  try {
    conversation = requireMembership(gw, actor, scope)
  } catch {
    throw missing()
  }
  return { scope, doc: docName.board(scope), conversation }
}

/**
 * Which rows of the `tasks` index (alias `t`) the actor may read: tasks on their workspace's
 * board or on the board of a conversation they are in now. The relay writes the index in the
 * same SQLite transaction as the board doc update, so it never lags a stored write.
 */
const READABLE = `t.workspace_id = @workspaceId AND (t.board = @workspaceBoard
  OR t.board IN (SELECT conversation_id FROM conversation_members WHERE member_id = @memberId))`
const readableParams = (actor: Actor): Record<string, string | null> => ({ workspaceId: actor.workspace.id, workspaceBoard: workspaceBoardOf(actor), memberId: actor.member.id })

/** The readable boards that hold tasks. */
function readableBoards(gw: Gateway, actor: Actor): Board[] {
  const scopes = gw.db.$client.prepare(`SELECT DISTINCT t.board FROM tasks t WHERE ${READABLE}`).pluck().all(readableParams(actor)) as string[]
  return scopes.map((scope) => requireBoard(gw, actor, scope))
}

/** Live tasks the actor may read matching the filters, per the index, freshest first. */
function indexedTasks(gw: Gateway, actor: Actor, f: { board?: string; status?: TaskStatus; assignee?: string; open?: boolean }): Array<{ id: string; board: string }> {
  let where = `t.deleted = 0 AND ${READABLE}`
  const params: Record<string, string | null> = readableParams(actor)
  if (f.board !== undefined) {
    where += ' AND t.board = @board'
    params.board = f.board
  }
  if (f.status !== undefined) {
    where += ' AND t.status = @status'
    params.status = f.status
  }
  if (f.assignee !== undefined) {
    where += ' AND EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = t.id AND a.member_id = @assignee)'
    params.assignee = f.assignee
  }
  if (f.open) where += " AND t.status <> 'done'"
  const sql = `SELECT t.id, t.board FROM tasks t WHERE ${where} ORDER BY t.updated_at DESC, t.id`
  return gw.db.$client.prepare(sql).all(params) as Array<{ id: string; board: string }>
}

async function load(gw: Gateway, board: Board): Promise<Loaded> {
  const doc = await gw.sync.getDoc(board.doc)
  return { board, doc, tasks: listTasks(doc) }
}

/** The board holding a live task the actor may read, or a 404. */
async function locate(gw: Gateway, actor: Actor, taskId: string): Promise<Loaded> {
  if (!isId('task', taskId)) throw taskNotFound()
  const row = gw.db.select({ board: taskIndex.board }).from(taskIndex).where(eq(taskIndex.id, taskId)).get()
  if (!row) throw taskNotFound()
  const loaded = await load(gw, requireBoard(gw, actor, row.board))
  if (!loaded.tasks.some((t) => t.id === taskId)) throw taskNotFound()
  return loaded
}

// ---- shaping ---------------------------------------------------------------------------------

/** What shaping needs beyond one board: handles, and tasks on every readable board for links. */
class ShapeContext {
  readonly handles: Map<string, string>
  readonly byId = new Map<string, Task>()
  /** The board each task is on. */
  readonly boardOf = new Map<string, Loaded>()
  readonly incoming = new Map<string, Array<{ link: TaskLink; from: Task }>>()

  constructor(gw: Gateway, actor: Actor, boards: Loaded[]) {
    this.handles = handlesOf(gw, actor)
    for (const b of boards) {
      for (const t of b.tasks) {
        this.byId.set(t.id, t)
        this.boardOf.set(t.id, b)
        for (const link of t.links) {
          const list = this.incoming.get(link.taskId) ?? []
          list.push({ link, from: t })
          this.incoming.set(link.taskId, list)
        }
      }
    }
  }

  /** Over every readable board that holds tasks (links may cross boards). */
  static async of(gw: Gateway, actor: Actor): Promise<ShapeContext> {
    const boards: Loaded[] = []
    for (const b of readableBoards(gw, actor)) boards.push(await load(gw, b))
    return new ShapeContext(gw, actor, boards)
  }

  /** A task by id, shaped; null if it is not (or no longer) on a readable board. */
  shapeId(id: string, full: boolean): TaskJson | null {
    const b = this.boardOf.get(id)
    const t = this.byId.get(id)
    return b && t ? this.shape(b, t, full) : null
  }

  /** Links both ways; a link to a task the actor cannot read (or a deleted one) is left out. */
  links(t: Task): TaskLinkJson[] {
    const out: TaskLinkJson[] = []
    for (const link of t.links) {
      const other = this.byId.get(link.taskId)
      if (other) out.push({ id: link.id, taskId: other.id, kind: link.kind, direction: 'outgoing', title: other.title, status: other.status })
    }
    for (const { link, from } of this.incoming.get(t.id) ?? []) {
      out.push({ id: link.id, taskId: from.id, kind: link.kind, direction: 'incoming', title: from.title, status: from.status })
    }
    return out
  }

  shape(b: Loaded, t: Task, full: boolean): TaskJson {
    return this.#shape(b.board, t, listComments(b.doc, t.id), () => activityOfTask(b.doc, t.id), subtasksOf(b.tasks, t.id), full)
  }

  /** An archived task, out of its board doc: as it last stood, in full. */
  shapeArchived(board: Board, a: ArchivedTask): TaskJson {
    return this.#shape(board, a.task, a.comments, () => a.activity, [], true)
  }

  #shape(board: Board, t: Task, comments: TaskComment[], activity: () => ActivityEntry[], subtasks: Task[], full: boolean): TaskJson {
    const conversation = board.conversation ? { id: board.conversation.id, name: board.conversation.name } : null
    const json = taskShape(t, { conversation, handles: this.handles, comments, links: this.links(t), subtasks })
    if (full) {
      json.comments = comments.map((c) => taskCommentShape(c, this.handles))
      json.activity = activity().map((e): TaskActivityJson => ({
        memberId: e.actor, memberHandle: this.handles.get(e.actor) ?? null, field: e.field, from: e.from, to: e.to, at: e.at
      }))
    }
    return json
  }
}

// ---- checks ----------------------------------------------------------------------------------

function checkTitle(title: string): string {
  const t = title.trim()
  if (!t) throw badRequest('invalid_input', 'title: A task needs a title.')
  if (t.length > MAX_TITLE_CHARS) throw badRequest('invalid_input', `title: Titles are at most ${MAX_TITLE_CHARS} characters.`)
  return t
}

function checkBody(body: string): string {
  if (body.length > MAX_DESCRIPTION_CHARS) throw badRequest('invalid_input', `bodyMd: Descriptions are at most ${MAX_DESCRIPTION_CHARS.toLocaleString('en')} characters.`)
  return body
}

function checkProgress(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 100) throw badRequest('invalid_input', 'progress: A whole number from 0 to 100.')
  return p
}

function checkDueAt(d: number | null): number | null {
  if (d !== null && (!Number.isSafeInteger(d) || d < 0)) throw badRequest('invalid_input', 'dueAt: A time in milliseconds since 1970, or null.')
  return d
}

function checkLabels(labels: string[]): string[] {
  const out = [...new Set(labels.map((l) => l.trim()))]
  const bad = out.find((l) => !isLabelName(l))
  if (bad !== undefined) throw badRequest('invalid_input', 'labels: Each label is 1–40 characters on one line.')
  if (out.length > MAX_TASK_LABELS) throw badRequest('invalid_input', `labels: At most ${MAX_TASK_LABELS} labels per task.`)
  return out
}

/** Assignees must be active members of the board's conversation (of the workspace, guests aside, for its board). */
function checkAssignable(gw: Gateway, actor: Actor, board: Board, ids: string[]): string[] {
  const wanted = [...new Set(ids)]
  if (wanted.length > MAX_ASSIGNEES) throw badRequest('too_many_assignees', `A task has at most ${MAX_ASSIGNEES} assignees.`)
  const active = activeMemberIds(gw.db, actor.workspace.id, wanted)
  const inConversation = board.conversation ? new Set(memberIdsOf(gw.db, board.conversation.id)) : null
  const guests = board.conversation ? new Set<string>() : guestIds(gw.db, wanted)
  const unknown = wanted.filter((id) => !active.has(id) || (inConversation && !inConversation.has(id)) || guests.has(id))
  if (unknown.length) {
    const where = board.conversation ? 'this conversation' : 'this workspace'
    throw badRequest('unknown_member', `Not members of ${where}: ${unknown.join(', ')}.`)
  }
  return wanted
}

/** A parent on the same board that is not the task itself nor one of its descendants. */
function checkParent(doc: Y.Doc, taskId: string | null, parentId: string): void {
  if (!findTask(doc, parentId)) throw badRequest('parent_not_found', 'parentId: No such task on this board.')
  for (let id: string | null = parentId, hops = 0; id !== null && hops < 1000; hops++) {
    if (id === taskId) throw badRequest('invalid_parent', 'parentId: A task cannot be its own parent or the parent of its parent.')
    const map = findTask(doc, id)
    id = map ? readTask(map).parentId : null
  }
}

/** Stable per name, so a label keeps its colour on every board it is first used on. */
function defaultColour(name: string): string {
  let h = 0
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0
  return LABEL_COLOURS[h % LABEL_COLOURS.length]!
}

/** Adds palette entries for labels the board does not have yet (throws before writing if full). */
function ensurePalette(doc: Y.Doc, labels: string[]): void {
  const palette = boardLabelsOf(doc)
  const fresh = labels.filter((l) => !palette.has(l))
  if (palette.size + fresh.length > MAX_BOARD_LABELS) throw conflict('too_many_labels', `A board has at most ${MAX_BOARD_LABELS} labels.`)
  for (const l of fresh) setBoardLabel(doc, l, defaultColour(l))
}

// ---- writes ----------------------------------------------------------------------------------

/**
 * One server-authored transaction on the task's board: `fn` validates (throwing before it writes
 * anything, since a Yjs transaction cannot roll back), edits, and the field changes become
 * activity. Resolves once stored.
 */
async function writeTask<T>(
  gw: Gateway, actor: Actor, taskId: string, opts: TaskWriteOptions,
  fn: (doc: Y.Doc, before: Task, board: Board) => T, extra: (result: T, at: number) => ActivityEntry[] = () => []
): Promise<T> {
  const { board } = await locate(gw, actor, taskId)
  if (board.conversation) requireWritable(board.conversation)
  return gw.sync.transact(board.doc, originOf(actor, opts), (doc) => {
    const map = findTask(doc, taskId)
    if (!map) throw taskNotFound()
    const before = readTask(map)
    const result = fn(doc, before, board)
    const at = Date.now()
    appendActivity(doc, [...taskChanges(before, readTask(map), actor.member.id, at), ...extra(result, at)])
    return result
  })
}

/** Tasks the actor may read, filtered; one board in board order, else freshest first. */
export async function listVisibleTasks(gw: Gateway, actor: Actor, filters: TaskFilters = {}): Promise<TaskJson[]> {
  const board = filters.conversationId
  if (board !== undefined) requireBoard(gw, actor, board, () => notFound('conversation_not_found', 'No such conversation, or you are not in it.'))
  const assignee = filters.assignee === 'me' ? actor.member.id : filters.assignee
  return shapeAll(gw, actor, indexedTasks(gw, actor, { board, status: filters.status, assignee }), board !== undefined)
}

/** Open (not done) tasks assigned to the actor, freshest first. */
export async function myOpenTasks(gw: Gateway, actor: Actor): Promise<TaskJson[]> {
  return shapeAll(gw, actor, indexedTasks(gw, actor, { assignee: actor.member.id, open: true }), false)
}

async function shapeAll(gw: Gateway, actor: Actor, rows: Array<{ id: string }>, boardOrder: boolean): Promise<TaskJson[]> {
  const ctx = await ShapeContext.of(gw, actor)
  const out = rows.map((r) => ctx.shapeId(r.id, false)).filter((t) => t !== null)
  const column = (s: TaskStatus) => TASK_STATUSES.indexOf(s)
  return boardOrder ? out.sort((a, b) => column(a.status) - column(b.status) || compareTasks(a, b)) : out
}

/**
 * A done task the relay archived (out of its board doc, kept whole in its index row), if the
 * actor may read its board; null if the task is not archived. Archived tasks are read-only: every
 * write goes through the board doc, where they no longer are.
 */
function archivedTask(gw: Gateway, actor: Actor, taskId: string): { board: Board; archive: ArchivedTask } | null {
  if (!isId('task', taskId)) return null
  const row = gw.db.select({ board: taskIndex.board, archive: taskIndex.archive }).from(taskIndex).where(eq(taskIndex.id, taskId)).get()
  if (!row?.archive) return null
  return { board: requireBoard(gw, actor, row.board), archive: row.archive as ArchivedTask }
}

/** One task in full: comments and activity included. */
export async function getTask(gw: Gateway, actor: Actor, taskId: string): Promise<TaskJson> {
  const archived = archivedTask(gw, actor, taskId)
  if (archived) return (await ShapeContext.of(gw, actor)).shapeArchived(archived.board, archived.archive)
  await locate(gw, actor, taskId)
  const task = (await ShapeContext.of(gw, actor)).shapeId(taskId, true)
  if (!task) throw taskNotFound()
  return task
}

/** Creates a task on a conversation's board or the workspace's; answers with the stored task. */
export async function createBoardTask(gw: Gateway, actor: Actor, input: CreateTaskInput, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  const title = checkTitle(input.title)
  const description = checkBody(input.bodyMd ?? '')
  const labels = checkLabels(input.labels ?? [])
  const progress = checkProgress(input.progress ?? 0)
  const dueAt = checkDueAt(input.dueAt ?? null)
  if (input.source) {
    const { message } = getMessage(gw, actor, input.source.messageId)
    if (message.conversationId !== input.source.conversationId) throw notFound('message_not_found', 'No such message in that conversation, or you cannot see it.')
  }
  const scope = input.conversationId ?? input.source?.conversationId ?? actor.workspace.id
  const board = requireBoard(gw, actor, scope, () => notFound('conversation_not_found', 'No such conversation, or you are not in it.'))
  if (board.conversation) requireWritable(board.conversation)
  const assignees = checkAssignable(gw, actor, board, input.assignees ?? [])
  const id = await gw.sync.transact(board.doc, originOf(actor, opts), (doc) => {
    if (input.parentId) checkParent(doc, null, input.parentId)
    ensurePalette(doc, labels)
    initBoard(doc, { conversationId: board.conversation?.id ?? null, workspaceId: actor.workspace.id })
    const taskId = createTask(doc, {
      createdBy: actor.member.id, title, description, status: input.status, assignees, labels, dueAt, progress,
      parentId: input.parentId ?? null, source: input.source ? { conversationId: input.source.conversationId, messageId: input.source.messageId } : undefined
    })
    const created = readTask(findTask(doc, taskId)!)
    appendActivity(doc, [{ taskId, actor: actor.member.id, field: 'created', from: null, to: created.title, at: created.createdAt }])
    return taskId
  })
  return getTask(gw, actor, id)
}

/** Changes a task's fields; a status change without a position moves it to the new column's end. */
export async function patchTask(gw: Gateway, actor: Actor, taskId: string, patch: PatchTaskInput, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  const fields: TaskPatch & { title?: string; description?: string } = {}
  if (patch.title !== undefined) fields.title = checkTitle(patch.title)
  if (patch.bodyMd !== undefined) fields.description = checkBody(patch.bodyMd)
  if (patch.progress !== undefined) fields.progress = checkProgress(patch.progress)
  if (patch.dueAt !== undefined) fields.dueAt = checkDueAt(patch.dueAt)
  if (patch.blocked !== undefined) fields.blocked = patch.blocked
  if (patch.status !== undefined) fields.status = patch.status
  if (patch.position !== undefined) {
    if (!isPosition(patch.position)) throw badRequest('invalid_input', 'position: A fractional index key (1–64 letters and digits).')
    fields.position = patch.position
  }
  await writeTask(gw, actor, taskId, opts, (doc, before) => {
    if (patch.parentId !== undefined && patch.parentId !== null) checkParent(doc, taskId, patch.parentId)
    if (patch.parentId !== undefined) fields.parentId = patch.parentId
    if (fields.status && fields.status !== before.status && fields.position === undefined) {
      fields.position = positionAtEdge(listTasks(doc).filter((t) => t.id !== taskId), fields.status, 'bottom')
    }
    updateTask(doc, taskId, fields)
  })
  return getTask(gw, actor, taskId)
}

/** Soft delete: the task stays in the doc with `deleted` set, so its id is never reused. */
export async function removeTask(gw: Gateway, actor: Actor, taskId: string, opts: TaskWriteOptions = {}): Promise<void> {
  await writeTask(gw, actor, taskId, opts, (doc) => deleteTask(doc, taskId))
}

/** Adds an assignee (a member of the board's conversation); assigning twice changes nothing. */
export async function assignTask(gw: Gateway, actor: Actor, taskId: string, memberId: string, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  await writeTask(gw, actor, taskId, opts, (doc, before, board) => {
    if (before.assignees.includes(memberId)) return
    checkAssignable(gw, actor, board, [...before.assignees, memberId])
    setTaskKeys(doc, taskId, 'assignees', { add: [memberId] })
  })
  return getTask(gw, actor, taskId)
}

/** Removes an assignee; removing someone not assigned changes nothing. */
export async function unassignTask(gw: Gateway, actor: Actor, taskId: string, memberId: string, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  await writeTask(gw, actor, taskId, opts, (doc, before) => {
    if (before.assignees.includes(memberId)) setTaskKeys(doc, taskId, 'assignees', { remove: [memberId] })
  })
  return getTask(gw, actor, taskId)
}

/** Replaces a task's labels; names new to the board join its palette with a default colour. */
export async function setTaskLabels(gw: Gateway, actor: Actor, taskId: string, labels: string[], opts: TaskWriteOptions = {}): Promise<TaskJson> {
  const next = checkLabels(labels)
  await writeTask(gw, actor, taskId, opts, (doc, before) => {
    ensurePalette(doc, next)
    setTaskKeys(doc, taskId, 'labels', { add: next, remove: before.labels.filter((l) => !next.includes(l)) })
  })
  return getTask(gw, actor, taskId)
}

/** Links a task to another the actor can read (stored on this task: "this blocks that"). */
export async function linkTask(gw: Gateway, actor: Actor, taskId: string, input: { linkedTaskId: string; kind: LinkKind }, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  await locate(gw, actor, taskId) // a task the actor cannot see is a 404 before anything else
  if (input.linkedTaskId === taskId) throw badRequest('invalid_link', 'A task cannot be linked to itself.')
  await locate(gw, actor, input.linkedTaskId).catch(() => {
    throw notFound('linked_task_not_found', 'linkedTaskId: No such task, or you cannot see it.')
  })
  await writeTask(gw, actor, taskId, opts, (doc, before) => {
    if (before.links.some((l) => l.taskId === input.linkedTaskId && l.kind === input.kind)) return false
    if (before.links.length >= MAX_LINKS) throw conflict('too_many_links', `A task has at most ${MAX_LINKS} links.`)
    return addTaskLink(doc, taskId, { taskId: input.linkedTaskId, kind: input.kind }) !== null
  }, (added, at) => (added ? [{ taskId, actor: actor.member.id, field: 'linked', from: null, to: { taskId: input.linkedTaskId, kind: input.kind }, at }] : []))
  return getTask(gw, actor, taskId)
}

/** Removes a link of this task, stored on it (outgoing) or on the other task (incoming). */
export async function unlinkTask(gw: Gateway, actor: Actor, taskId: string, linkId: string, opts: TaskWriteOptions = {}): Promise<TaskJson> {
  const task = await getTask(gw, actor, taskId)
  const link = task.links.find((l) => l.id === linkId)
  if (!link) throw notFound('link_not_found', 'No such link on this task.')
  const holder = link.direction === 'outgoing' ? taskId : link.taskId
  await writeTask(gw, actor, holder, opts, (doc) => removeTaskLink(doc, holder, linkId), (removed, at) =>
    removed ? [{ taskId: holder, actor: actor.member.id, field: 'unlinked', from: { taskId: link.direction === 'outgoing' ? link.taskId : taskId, kind: link.kind }, to: null, at }] : [])
  return getTask(gw, actor, taskId)
}

/**
 * Comments on a task; `@handles` in the body become mentions. `attachments`: the actor's own
 * uploads by key (as for a message: record values, never the input's), so files alone need no text.
 */
export async function commentOnTask(gw: Gateway, actor: Actor, taskId: string, input: { bodyMd: string; attachments?: AttachmentInput[] }, opts: TaskWriteOptions = {}): Promise<TaskCommentJson> {
  const attachments = resolveAttachments(gw, { memberId: actor.member.id, workspaceId: actor.workspace.id }, input.attachments)
  const body = attachments.length > 0 && input.bodyMd.trim() === '' ? '' : checkComment(input.bodyMd)
  const mentions = resolveMentions(gw, actor.workspace.id, body).slice(0, MAX_MENTIONS)
  const { comment } = await writeTask(gw, actor, taskId, opts, (doc) => {
    const id = addComment(doc, { taskId, author: actor.member.id, body, mentions, attachments })
    return { comment: readComment(findComment(doc, id)!) }
  }, ({ comment: c }, at) => [{ taskId, actor: actor.member.id, field: 'commented', from: null, to: c.id, at }])
  // The people it mentions are told by the board feed, as for comments written into the doc.
  return taskCommentShape(comment, handlesOf(gw, actor))
}

/**
 * Edits a comment: its body, its attachments, or both; only its author may. `attachments`
 * replaces the list, each the author's own upload by key (as when posting, OWN10); files it no
 * longer names stop being referenced by the comment (the task index rewrites its `file_refs`).
 */
export async function editTaskComment(gw: Gateway, actor: Actor, taskId: string, commentId: string, input: { bodyMd?: string; attachments?: AttachmentInput[] }, opts: TaskWriteOptions = {}): Promise<TaskCommentJson> {
  const attachments = input.attachments && resolveAttachments(gw, { memberId: actor.member.id, workspaceId: actor.workspace.id }, input.attachments)
  const { comment, before, board } = await writeTask(gw, actor, taskId, opts, (doc, _, board) => {
    const c = commentOf(doc, taskId, commentId)
    if (c.author !== actor.member.id) throw forbidden('not_author', 'Only the author can edit a comment.')
    const files = attachments ?? c.attachments
    // Files alone need no text, as when posting; a comment left with neither is refused.
    const body = input.bodyMd === undefined ? c.body : files.length > 0 && input.bodyMd.trim() === '' ? '' : checkComment(input.bodyMd)
    if (body.trim() === '' && files.length === 0) throw badRequest('invalid_input', 'A comment needs text or a file: delete it instead.')
    if (input.bodyMd !== undefined) editComment(doc, commentId, body, resolveMentions(gw, actor.workspace.id, body).slice(0, MAX_MENTIONS))
    if (attachments) editCommentAttachments(doc, commentId, attachments)
    return { comment: readComment(findComment(doc, commentId)!), before: c.mentions, board }
  })
  // As with messages, an edit that adds a mention tells the newly mentioned.
  await notify(gw, actor, board, comment, comment.mentions.filter((m) => !before.includes(m)))
  return taskCommentShape(comment, handlesOf(gw, actor))
}

/** Deletes a comment (its author or an admin); deleting it again changes nothing. */
export async function removeTaskComment(gw: Gateway, actor: Actor, taskId: string, commentId: string, opts: TaskWriteOptions = {}): Promise<void> {
  await writeTask(gw, actor, taskId, opts, (doc) => {
    const map = findComment(doc, commentId)
    if (!map || map.get('taskId') !== taskId) throw commentNotFound()
    const c = readComment(map)
    if (c.author !== actor.member.id && actor.member.role !== 'admin') throw forbidden('not_author', 'Only the author or an admin can delete a comment.')
    if (!c.deleted) deleteComment(doc, commentId)
  })
}

function notify(gw: Gateway, actor: Actor, board: Board, c: TaskComment, mentions: string[]) {
  return notifyTaskMentions(gw, { workspaceId: actor.workspace.id, conversationId: board.conversation?.id ?? null }, { taskId: c.taskId, commentId: c.id, by: c.author, at: c.editedAt ?? c.createdAt }, mentions)
}

function checkComment(bodyMd: string): string {
  if (!bodyMd.trim()) throw badRequest('invalid_input', 'bodyMd: A comment cannot be empty.')
  if (bodyMd.length > MAX_COMMENT_CHARS) throw badRequest('invalid_input', `bodyMd: Comments are at most ${MAX_COMMENT_CHARS.toLocaleString('en')} characters.`)
  return bodyMd
}

/** A live comment of this task, or 404 (deleted: 409, as for messages). */
function commentOf(doc: Y.Doc, taskId: string, commentId: string) {
  const map = findComment(doc, commentId)
  if (!map || map.get('taskId') !== taskId) throw commentNotFound()
  const c = readComment(map)
  if (c.deleted) throw new ApiError(409, 'comment_deleted', 'This comment was deleted; post a new one instead.')
  return c
}

/** Member id → handle across the workspace (deactivated members keep theirs). */
function handlesOf(gw: Gateway, actor: Actor): Map<string, string> {
  const rows = gw.db.select({ id: members.id, handle: members.handle }).from(members).where(eq(members.workspaceId, actor.workspace.id)).all()
  return new Map(rows.map((r) => [r.id, r.handle]))
}
