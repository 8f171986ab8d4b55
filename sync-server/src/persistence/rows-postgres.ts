import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import type { Message } from '@circlechat/model'
import { and, eq, getTableColumns, inArray, isNull, notInArray, or, sql, type Query, type SQLWrapper } from 'drizzle-orm'
import { PgDialect, type PgTable } from 'drizzle-orm/pg-core'
import {
  fileRefUpsert, fileRefValues, messageUpsert, messageValues, taskUpsert, taskValues,
  type AccessRows, type Attaching, type BoardScope, type ClientBinding, type ConversationRows, type IndexRows, type TaskRow
} from './rows.js'
import type { PgBatch, PgRowKind } from './postgres.js'

const { conversations, conversationMembers, docClients, fileRefs, files, members, messages, taskAssignees, tasks } = pgSchema

/** A batch's statement binds at most this many parameters (PostgreSQL's limit is 65,535). */
const MAX_PARAMS = 30_000

/** Cuts `list` into runs whose parameters (`params` each) stay under MAX_PARAMS. */
function chunks<T>(list: T[], params: (x: T) => number): T[][] {
  const out: T[][] = []
  let run: T[] = []
  let n = 0
  for (const x of list) {
    const p = params(x)
    if (run.length > 0 && n + p > MAX_PARAMS) {
      out.push(run)
      run = []
      n = 0
    }
    run.push(x)
    n += p
  }
  if (run.length > 0) out.push(run)
  return out
}

/**
 * The batch's last row of each key (what the last append left) and the items that wrote each
 * key. Two items giving one key to different owners throw, naming no item: the store then writes
 * one append per transaction, and the first takes the id as it would have committed first.
 */
function lastByKey<I, R>(items: readonly I[], rowsOf: (item: I) => R[], key: (row: R) => string, owner: (row: R) => string) {
  const rows = new Map<string, R>()
  const from = new Map<string, number[]>()
  items.forEach((item, i) => {
    for (const r of rowsOf(item)) {
      const k = key(r)
      const before = rows.get(k)
      if (before && owner(before) !== owner(r)) throw new Error(`${k} is written for two owners in one batch`)
      rows.set(k, r)
      const list = from.get(k) ?? from.set(k, []).get(k)!
      if (list.at(-1) !== i) list.push(i)
    }
  })
  return { rows, from }
}

/** The items that wrote a key the upsert left alone (indexed for another doc or board), refused. */
function refusals(from: Map<string, number[]>, written: Array<{ id: string }>, what: string) {
  if (written.length === from.size) return []
  const got = new Set(written.map((r) => r.id))
  return [...from].filter(([id]) => !got.has(id)).flatMap(([id, items]) => items.map((item) => ({ item, error: new Error(`${what} ${id} belongs to another ${what === 'task' ? 'board' : 'document'}`) })))
}

interface Scoped {
  scope: string
  attaching: Attaching
}

/** Each holder now attaches exactly its keys (the others stop granting access): a delete and an
 *  upsert whose rows are disjoint, so one statement may hold both. */
function refWrites(tx: PgTx, list: Scoped[]) {
  if (list.length === 0) return []
  const writes: SQLWrapper[] = [tx.delete(fileRefs).where(or(...list.map(({ attaching: a }) => and(eq(fileRefs.ref, a.ref), notInArray(fileRefs.fileKey, a.keys)))))]
  const rows = list.flatMap(({ scope, attaching }) => fileRefValues(scope, attaching))
  if (rows.length > 0) writes.push(tx.insert(fileRefs).values(rows).onConflictDoUpdate(fileRefUpsert(fileRefs)))
  return writes
}

const refParams = ({ attaching }: Scoped) => 1 + 7 * attaching.keys.length

/** The holders' last refs (one per holder: ON CONFLICT may not touch a row twice). */
const lastRefs = (list: Scoped[]) => [...new Map(list.map((s) => [s.attaching.ref, s])).values()]

async function runAll(tx: PgTx, writes: SQLWrapper[]) {
  for (const w of writes) await tx.execute(w.getSQL())
}

interface MessageItem {
  doc: string
  conversationId: string
  messages: Message[]
  attaching: Attaching[]
}

/**
 * `SELECT * FROM unnest(…)` of one array per column of `table`, in its order, the placeholders
 * named `<prefix><key>`: one statement text whatever the row count, so it can be a named
 * statement, parsed once per connection.
 */
function unnestColumns(table: PgTable, prefix: string) {
  const columns = Object.entries(getTableColumns(table))
  return sql`SELECT * FROM unnest(${sql.join(columns.map(([k, c]) => sql`${sql.placeholder(prefix + k)}::${sql.raw(c.getSQLType())}[]`), sql`, `)})`
}

/** The arrays `unnestColumns` binds: JSON as its text (SQL NULL stays NULL, not JSON null). */
function columnArrays(table: PgTable, prefix: string, rows: Array<Record<string, unknown>>) {
  const arrays: Record<string, unknown[]> = {}
  for (const [k, c] of Object.entries(getTableColumns(table))) {
    const json = c.getSQLType() === 'jsonb'
    arrays[prefix + k] = rows.map((r) => (r[k] == null ? null : json ? JSON.stringify(r[k]) : r[k]))
  }
  return arrays
}

/** The message statement's text and placeholders, built on first use (the same for every pool). */
let messageQuery: Query | undefined

function messageStatement(tx: PgTx): Query {
  if (messageQuery) return messageQuery
  const upsert = tx.insert(messages).select(unnestColumns(messages, 'm_')).onConflictDoUpdate(messageUpsert(messages)).returning({ id: messages.id })
  // Each holder now attaches exactly its keys (the others stop granting access); the rows this
  // deletes and the ones `refs` writes are disjoint, so one statement may hold both.
  const gone = tx.delete(fileRefs).where(sql`${fileRefs.ref} = ANY(${sql.placeholder('holders')}::text[]) AND (${fileRefs.fileKey}, ${fileRefs.ref}) NOT IN (SELECT * FROM unnest(${sql.placeholder('r_fileKey')}::text[], ${sql.placeholder('r_ref')}::text[]))`)
  const refs = tx.insert(fileRefs).select(unnestColumns(fileRefs, 'r_')).onConflictDoUpdate(fileRefUpsert(fileRefs))
  // Drizzle parenthesises an embedded statement, as a CTE's body is written.
  messageQuery = new PgDialect().sqlToQuery(sql`WITH written AS ${upsert}, gone AS ${gone}, refs AS ${refs} SELECT id FROM written`)
  return messageQuery
}

/** The batch's messages and their file refs: one named statement (data-modifying CTEs). */
const messageRows: PgRowKind<MessageItem> = {
  async write(tx, items) {
    const { rows, from } = lastByKey(items, (it) => it.messages.map((m) => messageValues(it.doc, it.conversationId, m)), (r) => r.id, (r) => `${r.doc}\n${r.conversationId}`)
    const refs = lastRefs(items.flatMap((it) => it.attaching.map((attaching) => ({ scope: it.conversationId, attaching }))))
    const values = {
      ...columnArrays(messages, 'm_', [...rows.values()]),
      ...columnArrays(fileRefs, 'r_', refs.flatMap(({ scope, attaching }) => fileRefValues(scope, attaching))),
      holders: refs.map((s) => s.attaching.ref)
    }
    const result = await tx._.session.prepareQuery(messageStatement(tx), undefined, 'cc_index_messages', false).execute(values) as { rows: Array<{ id: string }> }
    return refusals(from, result.rows, 'message')
  }
}

interface TaskItem {
  scope: BoardScope
  rows: TaskRow[]
  attaching: Attaching[]
}

const TASK_COLUMNS = 19

/** The batch's tasks, their assignees (the tasks' whole sets, replaced) and comments' file refs. */
const taskRows: PgRowKind<TaskItem> = {
  async write(tx, items) {
    const { rows, from } = lastByKey(items, (it) => it.rows.map((r) => taskValues(it.scope, r)), (r) => r.id, (r) => r.board)
    const assigned = new Map(items.flatMap((it) => it.rows.map((r) => [r.task.id, [...new Set(r.task.assignees)]] as const)))
    const refused: Array<{ item: number; error: Error }> = []
    for (const run of chunks([...rows.values()], () => TASK_COLUMNS)) {
      const written = await tx.insert(tasks).values(run).onConflictDoUpdate(taskUpsert(tasks)).returning({ id: tasks.id })
      refused.push(...refusals(new Map(run.map((r) => [r.id, from.get(r.id)!])), written, 'task'))
      const ids = run.map((r) => r.id)
      await tx.delete(taskAssignees).where(inArray(taskAssignees.taskId, ids))
      const pairs = ids.flatMap((taskId) => assigned.get(taskId)!.map((memberId) => ({ taskId, memberId })))
      for (const part of chunks(pairs, () => 2)) await tx.insert(taskAssignees).values(part)
    }
    const refs = lastRefs(items.flatMap((it) => it.attaching.map((attaching) => ({ scope: it.scope.board, attaching }))))
    for (const run of chunks(refs, refParams)) await runAll(tx, refWrites(tx, run))
    return refused
  }
}

interface ClientItem {
  doc: string
  bindings: ClientBinding[]
}

/** The batch's client bindings; a client already bound keeps its member (the first binding). */
const clientRows: PgRowKind<ClientItem> = {
  async write(tx, items) {
    const rows = items.flatMap((it) => it.bindings.map((b) => ({ doc: it.doc, clientId: b.client, memberId: b.memberId })))
    for (const run of chunks(rows, () => 3)) await tx.insert(docClients).values(run).onConflictDoNothing()
    return []
  }
}

/**
 * PostgreSQL: each statement is a round trip on the batch's transaction, so an append's writes
 * only add its rows to the batch, and each kind is written for all its appends at once.
 */
export function pgRows(db: PgDb): IndexRows<PgBatch, true> & AccessRows<true> & ConversationRows<true> {
  return {
    async: true,
    async messageTaken(id) {
      return (await db.select({ id: messages.id }).from(messages).where(eq(messages.id, id))).length > 0
    },
    async messageDoc(id) {
      return (await db.select({ doc: messages.doc }).from(messages).where(eq(messages.id, id)))[0]?.doc
    },
    async file(key) {
      return (await db.select({ owner: files.owner, contentType: files.contentType, size: files.size, voice: files.voice }).from(files).where(eq(files.key, key)))[0]
    },
    async taskTaken(id) {
      return (await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, id))).length > 0
    },
    clients: (doc) => db.select({ client: docClients.clientId, memberId: docClients.memberId }).from(docClients).where(eq(docClients.doc, doc)),
    async conversation(id, memberId) {
      const rows = await db.select({ workspaceId: conversations.workspaceId, liveSegment: conversations.liveSegment, archivedAt: conversations.archivedAt, joinedAt: conversationMembers.joinedAt })
        .from(conversations)
        .leftJoin(conversationMembers, and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.memberId, memberId)))
        .where(eq(conversations.id, id))
      return rows[0]
    },
    async threadConversation(id) {
      return (await db.select({ id: messages.conversationId }).from(messages).where(and(eq(messages.id, id), isNull(messages.parentId))))[0]?.id
    },
    async role(id) {
      return (await db.select({ role: members.role }).from(members).where(eq(members.id, id)))[0]?.role
    },
    async liveSegment(id) {
      return (await db.select({ n: conversations.liveSegment }).from(conversations).where(eq(conversations.id, id)))[0]?.n
    },
    async workspaceOf(id) {
      return (await db.select({ id: conversations.workspaceId }).from(conversations).where(eq(conversations.id, id)))[0]?.id
    },
    async memberIds(id) {
      return (await db.select({ id: conversationMembers.memberId }).from(conversationMembers).where(eq(conversationMembers.conversationId, id))).map((r) => r.id)
    },
    async bumpSegment(id, from, to) {
      const rows = await db.update(conversations).set({ liveSegment: to }).where(and(eq(conversations.id, id), eq(conversations.liveSegment, from))).returning({ id: conversations.id })
      return rows.length === 1
    },
    async writeMessages(batch, doc, conversationId, list, attaching) {
      if (list.length > 0 || attaching.length > 0) batch.add(messageRows, { doc, conversationId, messages: list, attaching })
    },
    async writeTasks(batch, scope, list, attaching) {
      if (list.length > 0 || attaching.length > 0) batch.add(taskRows, { scope, rows: list, attaching })
    },
    async bindClients(batch, doc, bindings) {
      if (bindings.length > 0) batch.add(clientRows, { doc, bindings })
    },
    async archiveTasks(scope, archived, at) {
      if (archived.length === 0) return
      await db.transaction(async (tx) => {
        for (const a of archived) await tx.update(tasks).set({ archivedAt: at, archive: a }).where(and(eq(tasks.id, a.task.id), eq(tasks.board, scope.board), eq(tasks.updatedAt, a.task.updatedAt)))
      })
    }
  }
}
