import { pgSchema, type PgDb, type PgTx } from '@circlechat/db/pg'
import { and, eq, inArray, isNull, notInArray, or, sql, type SQLWrapper } from 'drizzle-orm'
import {
  fileRefUpsert, fileRefValues, messageUpsert, messageValues, taskUpsert, taskValues,
  type AccessRows, type Attaching, type ConversationRows, type IndexRows
} from './rows.js'

const { conversations, conversationMembers, docClients, fileRefs, files, members, messages, taskAssignees, tasks } = pgSchema

/**
 * PostgreSQL: each statement is a round trip on the batch's transaction, and the batch's appends
 * write one after another, so rows go in multi-row statements, not a statement per row as on
 * SQLite; an update's messages and their file refs go in one statement (data-modifying CTEs).
 */
function refWrites(tx: PgTx, scope: string, attaching: Attaching[]) {
  if (attaching.length === 0) return []
  // Each holder now attaches exactly its keys: the others stop granting access. The rows this
  // deletes and the ones the upsert writes are disjoint, so one statement may hold both.
  const writes: SQLWrapper[] = [tx.delete(fileRefs).where(or(...attaching.map((a) => and(eq(fileRefs.ref, a.ref), notInArray(fileRefs.fileKey, a.keys)))))]
  // One row per (key, holder): ON CONFLICT may not touch a row twice in one statement.
  const rows = [...new Map(attaching.flatMap((a) => fileRefValues(scope, a)).map((r) => [`${r.fileKey}\n${r.ref}`, r])).values()]
  if (rows.length > 0) writes.push(tx.insert(fileRefs).values(rows).onConflictDoUpdate(fileRefUpsert(fileRefs)))
  return writes
}

/** The last row of each id: the one an update left. */
const lastById = <T>(rows: T[], id: (row: T) => string) => [...new Map(rows.map((r) => [id(r), r])).values()]

/** Throws naming the first id the upsert left alone (indexed for another doc or board). */
function allWritten(wanted: string[], written: Array<{ id: string }>, owner: string) {
  if (written.length === wanted.length) return
  const got = new Set(written.map((r) => r.id))
  throw new Error(`${owner === 'board' ? 'task' : 'message'} ${wanted.find((id) => !got.has(id))} belongs to another ${owner}`)
}

export function pgRows(db: PgDb): IndexRows<PgTx, true> & AccessRows<true> & ConversationRows<true> {
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
    async writeMessages(tx, doc, conversationId, list, attaching) {
      const rows = lastById(list, (m) => m.id).map((m) => messageValues(doc, conversationId, m))
      const refs = refWrites(tx, conversationId, attaching)
      if (rows.length === 0) {
        for (const w of refs) await tx.execute(w.getSQL())
        return
      }
      const upsert = tx.insert(messages).values(rows).onConflictDoUpdate(messageUpsert(messages)).returning({ id: messages.id })
      // Drizzle parenthesises an embedded statement, as a CTE's body is written.
      const ctes = refs.map((w, i) => sql`, ${sql.raw(`refs${i}`)} AS ${w}`)
      const { rows: written } = await tx.execute<{ id: string }>(sql`WITH written AS ${upsert}${sql.join(ctes)} SELECT id FROM written`)
      allWritten(rows.map((r) => r.id), written, 'document')
    },
    async writeTasks(tx, scope, list, attaching) {
      const rows = lastById(list, (r) => r.task.id)
      if (rows.length > 0) {
        const ids = rows.map((r) => r.task.id)
        const written = await tx.insert(tasks).values(rows.map((r) => taskValues(scope, r))).onConflictDoUpdate(taskUpsert(tasks)).returning({ id: tasks.id })
        allWritten(ids, written, 'board')
        await tx.delete(taskAssignees).where(inArray(taskAssignees.taskId, ids))
        const assigned = rows.flatMap((r) => [...new Set(r.task.assignees)].map((memberId) => ({ taskId: r.task.id, memberId })))
        if (assigned.length > 0) await tx.insert(taskAssignees).values(assigned)
      }
      for (const w of refWrites(tx, scope.board, attaching)) await tx.execute(w.getSQL())
    },
    async bindClients(tx, doc, bindings) {
      if (bindings.length > 0) await tx.insert(docClients).values(bindings.map((b) => ({ doc, clientId: b.client, memberId: b.memberId }))).onConflictDoNothing()
    },
    async archiveTasks(scope, archived, at) {
      if (archived.length === 0) return
      await db.transaction(async (tx) => {
        for (const a of archived) await tx.update(tasks).set({ archivedAt: at, archive: a }).where(and(eq(tasks.id, a.task.id), eq(tasks.board, scope.board), eq(tasks.updatedAt, a.task.updatedAt)))
      })
    }
  }
}
