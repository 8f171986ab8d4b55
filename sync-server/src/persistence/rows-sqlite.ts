import { schema, type Db } from '@circlechat/db'
import { and, eq, isNull, sql, type Placeholder } from 'drizzle-orm'
import {
  fileRefUpsert, fileRefValues, messageUpsert, messageValues, taskUpsert, taskValues,
  type AccessRows, type Attaching, type ConversationRows, type IndexRows
} from './rows.js'

const { conversations, conversationMembers, docClients, fileRefs, files, members, messages, taskAssignees, tasks } = schema

const p = (name: string) => sql.placeholder(name)
function placeholders<K extends string>(row: Record<K, unknown>): Record<K, Placeholder> {
  return Object.fromEntries(Object.keys(row).map((k) => [k, p(k)])) as Record<K, Placeholder>
}
// The shape of a row, for its placeholders (the values never run).
const messageShape = messageValues('', '', { id: '', author: '', createdAt: 0, body: '', editedAt: null, deleted: false, mentions: [], attachments: [], parentId: null, reactions: [], threadCount: 0, lastReplyAt: null, card: null })
const taskShape = taskValues({ board: '', workspaceId: '', conversationId: null }, { task: { id: '', createdBy: '', createdAt: 0, title: '', description: '', status: 'backlog', blocked: false, position: '', assignees: [], labels: [], links: [], dueAt: null, progress: 0, parentId: null, updatedAt: 0, deleted: false, source: null }, comments: '', commentCount: 0 })

/**
 * The writes, prepared once per connection: SQLite runs them on the connection the store's
 * batch holds (its `tx`), and preparing costs more than running them (issue 14).
 */
function writes(db: Db) {
  return {
    // `card` is JSON or NULL: a placeholder would encode null as the text 'null', so it is bound as text.
    message: db.insert(messages).values({ ...placeholders(messageShape), card: sql`${p('card')}` }).onConflictDoUpdate(messageUpsert(messages)).prepare(),
    task: db.insert(tasks).values(placeholders(taskShape)).onConflictDoUpdate(taskUpsert(tasks)).prepare(),
    clearAssignees: db.delete(taskAssignees).where(eq(taskAssignees.taskId, p('taskId'))).prepare(),
    assign: db.insert(taskAssignees).values({ taskId: p('taskId'), memberId: p('memberId') }).prepare(),
    unref: db.delete(fileRefs).where(and(eq(fileRefs.ref, p('ref')), sql`${fileRefs.fileKey} NOT IN (SELECT value FROM json_each(${p('keys')}))`)).prepare(),
    ref: db.insert(fileRefs).values({ fileKey: p('fileKey'), ref: p('ref'), scope: p('scope'), deleted: p('deleted'), taskId: p('taskId'), createdAt: p('createdAt') })
      .onConflictDoUpdate(fileRefUpsert(fileRefs)).prepare(),
    bind: db.insert(docClients).values({ doc: p('doc'), clientId: p('client'), memberId: p('memberId') }).onConflictDoNothing().prepare(),
    archive: db.update(tasks).set({ archivedAt: sql`${p('at')}`, archive: sql`${p('archive')}` }).where(and(eq(tasks.id, p('id')), eq(tasks.board, p('board')), eq(tasks.updatedAt, p('updatedAt')))).prepare()
  }
}
type Writes = ReturnType<typeof writes>

/** SQLite: prepared once, run synchronously (on the connection given, or the batch's `tx`). */
export function sqliteRows(db: Db): IndexRows<Db, false> & AccessRows<false> & ConversationRows<false> {
  const prepared = new WeakMap<Db, Writes>()
  const on = (tx: Db) => {
    let w = prepared.get(tx)
    if (!w) prepared.set(tx, (w = writes(tx)))
    return w
  }
  const refs = (w: Writes, scope: string, attaching: Attaching[]) => {
    for (const a of attaching) {
      w.unref.run({ ref: a.ref, keys: JSON.stringify(a.keys) })
      for (const row of fileRefValues(scope, a)) w.ref.run(row)
    }
  }
  const read = {
    messageTaken: db.select({ one: sql`1` }).from(messages).where(eq(messages.id, p('id'))).prepare(),
    messageDoc: db.select({ doc: messages.doc }).from(messages).where(eq(messages.id, p('id'))).prepare(),
    file: db.select({ owner: files.owner, contentType: files.contentType, size: files.size, voice: files.voice }).from(files).where(eq(files.key, p('key'))).prepare(),
    taskTaken: db.select({ one: sql`1` }).from(tasks).where(eq(tasks.id, p('id'))).prepare(),
    clients: db.select({ client: docClients.clientId, memberId: docClients.memberId }).from(docClients).where(eq(docClients.doc, p('doc'))).prepare(),
    conversation: db.select({ workspaceId: conversations.workspaceId, liveSegment: conversations.liveSegment, archivedAt: conversations.archivedAt, joinedAt: conversationMembers.joinedAt })
      .from(conversations)
      .leftJoin(conversationMembers, and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.memberId, p('memberId'))))
      .where(eq(conversations.id, p('id'))).prepare(),
    threadConversation: db.select({ id: messages.conversationId }).from(messages).where(and(eq(messages.id, p('id')), isNull(messages.parentId))).prepare(),
    role: db.select({ role: members.role }).from(members).where(eq(members.id, p('id'))).prepare(),
    liveSegment: db.select({ n: conversations.liveSegment, workspaceId: conversations.workspaceId }).from(conversations).where(eq(conversations.id, p('id'))).prepare(),
    memberIds: db.select({ id: conversationMembers.memberId }).from(conversationMembers).where(eq(conversationMembers.conversationId, p('id'))).prepare(),
    bumpSegment: db.update(conversations).set({ liveSegment: sql`${p('to')}` }).where(and(eq(conversations.id, p('id')), eq(conversations.liveSegment, p('from')))).prepare()
  }
  return {
    async: false,
    messageTaken: (id) => read.messageTaken.get({ id }) !== undefined,
    messageDoc: (id) => read.messageDoc.get({ id })?.doc,
    file: (key) => read.file.get({ key }),
    taskTaken: (id) => read.taskTaken.get({ id }) !== undefined,
    clients: (doc) => read.clients.all({ doc }),
    conversation: (id, memberId) => read.conversation.get({ id, memberId }),
    threadConversation: (id) => read.threadConversation.get({ id })?.id,
    role: (id) => read.role.get({ id })?.role,
    liveSegment: (id) => read.liveSegment.get({ id })?.n,
    workspaceOf: (id) => read.liveSegment.get({ id })?.workspaceId,
    memberIds: (id) => read.memberIds.all({ id }).map((r) => r.id),
    bumpSegment: (id, from, to) => read.bumpSegment.run({ id, from, to }).changes === 1,
    writeMessages(tx, doc, conversationId, list, attaching) {
      const w = on(tx)
      for (const m of list) {
        const { changes } = w.message.run({ ...messageValues(doc, conversationId, m), card: m.card ? JSON.stringify(m.card) : null })
        if (changes !== 1) throw new Error(`message ${m.id} belongs to another document`)
      }
      refs(w, conversationId, attaching)
    },
    writeTasks(tx, scope, rows, attaching) {
      const w = on(tx)
      for (const row of rows) {
        const { changes } = w.task.run(taskValues(scope, row))
        if (changes !== 1) throw new Error(`task ${row.task.id} belongs to another board`)
        w.clearAssignees.run({ taskId: row.task.id })
        for (const memberId of new Set(row.task.assignees)) w.assign.run({ taskId: row.task.id, memberId })
      }
      refs(w, scope.board, attaching)
    },
    bindClients(tx, doc, bindings) {
      const w = on(tx)
      for (const b of bindings) w.bind.run({ doc, client: b.client, memberId: b.memberId })
    },
    archiveTasks(scope, archived, at) {
      const w = on(db)
      db.$client.transaction(() => {
        for (const a of archived) w.archive.run({ id: a.task.id, board: scope.board, updatedAt: a.task.updatedAt, at, archive: JSON.stringify(a) })
      })()
    }
  }
}
