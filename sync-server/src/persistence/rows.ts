import { and, eq, getTableColumns, sql, type SQL } from 'drizzle-orm'
import type { ArchivedTask, Message, Task, VoiceInfo } from '@circlechat/model'

/**
 * The relay's own rows (the message and task indexes, file refs, doc_clients, and what access
 * is decided from), one seam with an implementation per dialect: rows-sqlite.ts, rows-postgres.ts.
 *
 * `Async` says how reads and writes return. On SQLite they return the value itself: the guard
 * decides an update within one turn, and a write runs inside the store's group commit, where
 * better-sqlite3 cannot await. On PostgreSQL they return promises; a write awaits its queries on
 * the batch's transaction (`Tx`).
 */
export type Got<T, Async extends boolean> = Async extends true ? Promise<T> : T

/** Applies `f` to a read: now on SQLite, when it resolves on PostgreSQL. (Not named `then`: a
 *  module exporting `then` is a thenable, and importing it dynamically would call it.) */
export function mapGot<T, U, A extends boolean>(got: Got<T, A>, f: (value: T) => U | Got<U, A>): Got<U, A> {
  return (got instanceof Promise ? got.then(f) : f(got as T)) as Got<U, A>
}

/** Runs `steps` in order: all now on SQLite; on PostgreSQL each after the one before resolved. */
export function inSequence(steps: Array<(() => void | Promise<void>) | null | undefined | false>): void | Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    const done = step ? step() : undefined
    if (done instanceof Promise) return done.then(() => inSequence(steps.slice(i + 1)))
  }
}

/** A value known without a read, as the dialect returns reads. */
export const settled = <T, A extends boolean>(async: A, value: T): Got<T, A> => (async ? Promise.resolve(value) : value) as Got<T, A>

/** A conversation as access sees it, with the member's row (`joinedAt` null: not a member). */
export interface ConversationAccess {
  workspaceId: string
  liveSegment: number
  archivedAt: number | null
  joinedAt: number | null
}

/** Reads access is decided from (access.ts), fresh on every call: revocation is immediate. */
export interface AccessRows<A extends boolean> {
  readonly async: A
  conversation(conversationId: string, memberId: string): Got<ConversationAccess | undefined, A>
  /** The conversation of a thread's root message (a reply roots no thread). */
  threadConversation(rootMessageId: string): Got<string | undefined, A>
  role(memberId: string): Got<string | undefined, A>
}

/** The conversation rows the relay reads outside access, and the seal's one write. */
export interface ConversationRows<A extends boolean> {
  liveSegment(conversationId: string): Got<number | undefined, A>
  workspaceOf(conversationId: string): Got<string | undefined, A>
  memberIds(conversationId: string): Got<string[], A>
  /** Moves live_segment from `from` to `to`; false when it is not at `from` (sealed already). */
  bumpSegment(conversationId: string, from: number, to: number): Got<boolean, A>
}

/** What the guard compares an attachment with: the upload's owner, sniffed type, size and voice info. */
export interface AttachedFile {
  owner: string
  contentType: string
  size: number
  voice: VoiceInfo | null
}

/** Where a board's tasks are indexed: `board` is the doc's scope id (conversation or workspace). */
export interface BoardScope {
  board: string
  workspaceId: string
  conversationId: string | null
}

/** A task as indexed: the task, its live comments' bodies joined, and how many there are. */
export interface TaskRow {
  task: Task
  comments: string
  commentCount: number
}

/** An attachment holder (message or task comment) and the uploads it attaches now. */
export interface Attaching {
  ref: string
  keys: string[]
  deleted: boolean
  createdAt: number
  /** The task a comment is on; null for a message. */
  taskId: string | null
}

/** A Yjs client id a member introduced on a doc (guard rule OWN8). */
export interface ClientBinding {
  client: number
  memberId: string
}

/**
 * The index rows. A write throws (rejects) when a message or task id is indexed for another doc
 * or board: the whole append fails, as the id is never overwritten.
 */
export interface IndexRows<Tx, A extends boolean> {
  readonly async: A
  messageTaken(id: string): Got<boolean, A>
  /** The doc holding a message, e.g. the conversation segment of a thread's root. */
  messageDoc(id: string): Got<string | undefined, A>
  file(key: string): Got<AttachedFile | undefined, A>
  taskTaken(id: string): Got<boolean, A>
  clients(doc: string): Got<ClientBinding[], A>
  /** `refs`: who may read which upload follows its message (agent-gateway services/files.ts). */
  writeMessages(tx: Tx, doc: string, conversationId: string, messages: Message[], refs: Attaching[]): Got<void, A>
  writeTasks(tx: Tx, scope: BoardScope, rows: TaskRow[], refs: Attaching[]): Got<void, A>
  bindClients(tx: Tx, doc: string, bindings: ClientBinding[]): Got<void, A>
  /** Keeps archived tasks in their rows as they last stood, in a transaction of its own; a row
   *  whose task was indexed since (another updatedAt) is left live. */
  archiveTasks(scope: BoardScope, archived: ArchivedTask[], at: number): Got<void, A>
}

// ---- shared by both dialects: the column values and the upserts' conflict clauses -----------

/** `SET col = excluded.col` for `keys`, on either dialect's table. */
function excluded<T extends Record<string, unknown>>(table: T, keys: ReadonlyArray<keyof T & string>): Record<string, SQL> {
  const columns = getTableColumns(table as never) as Record<string, { name: string }>
  return Object.fromEntries(keys.map((k) => [k, sql.raw(`excluded.${columns[k]!.name}`)]))
}

export const messageValues = (doc: string, conversationId: string, m: Message) => ({
  id: m.id, conversationId, doc, parentId: m.parentId, author: m.author, createdAt: m.createdAt, editedAt: m.editedAt,
  deleted: m.deleted, body: m.body, mentions: m.mentions, attachments: m.attachments as unknown[], reactions: m.reactions,
  // The schema types `card` as the approval card only; an email card is indexed the same way.
  threadCount: m.threadCount, lastReplyAt: m.lastReplyAt, card: m.card as { kind: 'approval'; approvalId: string } | null
})

/** A message id stays with the doc that first indexed it: the update's WHERE leaves it alone. */
export const messageUpsert = <T extends { id: unknown; doc: unknown; conversationId: unknown }>(t: T) => ({
  target: t.id as never,
  set: excluded(t, ['editedAt', 'deleted', 'body', 'mentions', 'attachments', 'reactions', 'threadCount', 'lastReplyAt', 'card'] as never),
  setWhere: and(eq(t.doc as never, sql.raw('excluded.doc')), eq(t.conversationId as never, sql.raw('excluded.conversation_id')))
})

export const taskValues = (scope: BoardScope, { task: t, comments, commentCount }: TaskRow) => ({
  id: t.id, workspaceId: scope.workspaceId, board: scope.board, conversationId: scope.conversationId, title: t.title,
  body: t.description, status: t.status, blocked: t.blocked, position: t.position, progress: t.progress, dueAt: t.dueAt,
  parentId: t.parentId, createdBy: t.createdBy, createdAt: t.createdAt, updatedAt: t.updatedAt, deleted: t.deleted,
  labels: t.labels, comments, commentCount
})

/** A task id stays with its board; an edited task is live again (its archive cleared). */
export const taskUpsert = <T extends { id: unknown; board: unknown }>(t: T) => ({
  target: t.id as never,
  set: {
    ...excluded(t, ['title', 'body', 'status', 'blocked', 'position', 'progress', 'dueAt', 'parentId', 'updatedAt', 'deleted', 'labels', 'comments', 'commentCount'] as never),
    archivedAt: sql`NULL`, archive: sql`NULL`
  },
  setWhere: eq(t.board as never, sql.raw('excluded.board'))
})

/** A holder's row per upload it attaches; a deleted holder keeps its rows, marked deleted. */
export const fileRefValues = (scope: string, a: Attaching) =>
  [...new Set(a.keys)].map((fileKey) => ({ fileKey, ref: a.ref, scope, deleted: a.deleted, taskId: a.taskId, createdAt: a.createdAt }))

export const fileRefUpsert = <T extends { fileKey: unknown; ref: unknown }>(t: T) => ({
  target: [t.fileKey, t.ref] as never,
  set: excluded(t, ['deleted', 'taskId'] as never)
})
