import * as Y from 'yjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addComment, appendMessage, archivableTasks, createTask, deleteMessage, docName, editCommentAttachments, editMessage,
  findMessage, findTask, initSegment, newId, parseDocName, setCard, setTaskKeys, tasksOf, toggleReaction, updateTask, type Attachment
} from '@circlechat/model'
import { AccessControl } from '../src/access.js'
import { guardUpdate } from '../src/guard/index.js'
import { guardWithLookups } from '../src/guard/lookups.js'
import { MessageIndex } from '../src/message-index.js'
import { Room } from '../src/room.js'
import { TaskIndex } from '../src/task-index.js'
import { inSequence, type AccessRows, type BoardScope, type ConversationRows, type Got, type IndexRows } from '../src/persistence/rows.js'
import type { DocStore } from '../src/persistence/store.js'
import type { Principal } from '../src/types.js'

/** The tables the suites seed and read back (same export names in schema.ts and schema-pg.ts). */
export type Table = 'workspaces' | 'members' | 'conversations' | 'conversationMembers' | 'messages' | 'files' | 'fileRefs' | 'tasks' | 'taskAssignees'

/**
 * One backend of the relay's rows: a real database, a store on it whose appends carry the index
 * writes (as the relay's do), and plain access to its tables for seeding and checking.
 */
export interface RowsBackend<Tx, A extends boolean> {
  rows: IndexRows<Tx, A> & AccessRows<A> & ConversationRows<A>
  store: DocStore<(tx: Tx) => Got<void, A>>
  insert(table: Table, rows: Array<Record<string, unknown>>): Promise<void>
  /** Deletes the rows of `table` whose `column` is `value`. */
  remove(table: Table, column: string, value: string): Promise<void>
  /** A table's rows as drizzle maps them: booleans, JSON and numbers read alike on both dialects. */
  select(table: Table): Promise<Array<Record<string, unknown>>>
  destroy(): Promise<void>
}

const T0 = 1_700_000_000_000

/** The index seam (MessageIndex, TaskIndex, file refs, doc_clients) on one backend. */
export function indexContract<Tx, A extends boolean>(name: string, backend: () => Promise<RowsBackend<Tx, A>>) {
  describe(`index rows contract: ${name}`, () => {
    let b: RowsBackend<Tx, A>
    let messages: MessageIndex<Tx, A>
    let tasks: TaskIndex<Tx, A>
    const ws = newId('workspace')
    const alice = newId('member')
    const conv = newId('conversation')
    const file = (owner: string, voice: unknown = null) => ({ key: newId('file'), workspaceId: ws, owner, sha256: 'a'.repeat(64), name: 'f.txt', contentType: 'text/plain', size: 12, voice, createdAt: T0 })
    const attachment = (key: string): Attachment => ({ key, name: 'f.txt', contentType: 'text/plain', size: 12, url: `/files/${key}` })
    const row = async (table: Table, pick: (r: Record<string, unknown>) => boolean) => (await b.select(table)).filter(pick)

    beforeAll(async () => {
      b = await backend()
      messages = new MessageIndex(b.rows)
      tasks = new TaskIndex(b.rows)
    })
    afterAll(async () => {
      await b?.store.close()
      await b?.destroy()
    })

    /** Indexes the maps `edit` touches, in the append of its update, as the relay does. */
    async function indexMessages(room: Room, change: (doc: Y.Doc) => void) {
      const { update, maps } = edit(room, change)
      const indexed = messages.prepare(room.name, conv, maps)
      try {
        await b.store.appendUpdate(room.name, update, (tx) => indexed.write(tx))
      } finally {
        indexed.done()
      }
      return indexed.messages
    }

    it('a message row follows its doc: created, edited, reacted, carded, deleted', async () => {
      const name = docName.conv(conv, 0)
      const room = roomOf(name, conv)
      let id = ''
      await indexMessages(room, (d) => { id = appendMessage(d, { author: alice, body: 'hello @bob', mentions: ['m_bob'], createdAt: T0 }) })
      expect(await row('messages', (r) => r.id === id)).toEqual([expect.objectContaining({
        id, conversationId: conv, doc: name, parentId: null, author: alice, createdAt: T0, editedAt: null, deleted: false, body: 'hello @bob',
        mentions: ['m_bob'], attachments: [], reactions: [], threadCount: 0, lastReplyAt: null, card: null
      })])
      expect(await messages.idTaken(id)).toBe(true)
      expect(await messages.docOf(id)).toBe(name)
      await indexMessages(room, (d) => { editMessage(d, id, 'edited', []); toggleReaction(d, id, 'm_bob', '👍'); setCard(d, id, { kind: 'approval', approvalId: 'ap_1', status: 'pending' }) })
      expect(await row('messages', (r) => r.id === id)).toEqual([expect.objectContaining({ body: 'edited', mentions: [], reactions: [{ emoji: '👍', memberId: 'm_bob' }], card: { kind: 'approval', approvalId: 'ap_1', status: 'pending' } })])
      await indexMessages(room, (d) => deleteMessage(d, id))
      expect(await row('messages', (r) => r.id === id)).toEqual([expect.objectContaining({ deleted: true, body: '' })])
      expect(await messages.idTaken(newId('message'))).toBe(false)
      expect(await messages.docOf(newId('message'))).toBeUndefined()
    })

    it('an id is taken from prepare on, before its commit', async () => {
      const doc = new Y.Doc()
      const id = appendMessage(doc, { author: alice, body: 'pending', createdAt: T0 })
      const indexed = messages.prepare(docName.conv(conv, 0), conv, [findMessage(doc, id)!])
      expect(await messages.idTaken(id)).toBe(true)
      indexed.done()
      expect(await messages.idTaken(id)).toBe(false)
    })

    it('a message id indexed for another doc fails only its own append, and the row stays', async () => {
      const id = newId('message')
      await indexMessages(roomOf(docName.conv(conv, 0), conv), (d) => appendMessage(d, { id, author: alice, body: 'first', createdAt: T0 }))
      const thread = docName.thread(newId('message'))
      const other = roomOf(thread, conv)
      const clash = edit(other, (d) => appendMessage(d, { id, author: alice, body: 'second', createdAt: T0 })).maps
      const fine = edit(other, (d) => appendMessage(d, { author: alice, body: 'fine', createdAt: T0 })).maps
      const [a, c] = [messages.prepare(thread, conv, clash), messages.prepare(thread, conv, fine)]
      const results = await Promise.allSettled([
        b.store.appendUpdate(thread, new Uint8Array([1]), (tx) => a.write(tx)),
        b.store.appendUpdate(thread, new Uint8Array([2]), (tx) => c.write(tx))
      ])
      a.done()
      c.done()
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled'])
      expect(String((results[0] as PromiseRejectedResult).reason)).toContain(`message ${id} belongs to another document`)
      expect(await row('messages', (r) => r.id === id)).toEqual([expect.objectContaining({ doc: docName.conv(conv, 0), body: 'first' })])
      expect(await row('messages', (r) => r.id === c.messages[0]!.id)).toHaveLength(1)
      expect((await b.store.loadDoc(thread)).map((u) => [...u])).toEqual([[2]])
    })

    it('one batch of appends: rows land together, the later edit wins, only appends of ids held elsewhere are refused', async () => {
      const [f1, f2] = [file(alice), file(alice)]
      await b.insert('files', [f1, f2])
      const held = newId('message')
      await indexMessages(roomOf(docName.conv(conv, 0), conv), (d) => appendMessage(d, { id: held, author: alice, body: 'held', createdAt: T0 }))
      const name = docName.conv(conv, 3)
      const room = roomOf(name, conv)
      let id = ''
      const post = edit(room, (d) => { id = appendMessage(d, { author: alice, body: 'posted', attachments: [attachment(f1.key)], createdAt: T0 }) })
      // Quotes, a backslash, braces and the word NULL: text the array encodings must keep as is.
      const body = 'edited "q" \\ {a,b} NULL é'
      const change = edit(room, (d) => { editMessage(d, id, body, ['m_"x"']); findMessage(d, id)!.set('attachments', [attachment(f2.key)]) })
      const [threadA, threadB] = [docName.thread(newId('message')), docName.thread(newId('message'))]
      const fresh = newId('message')
      const writes = [
        { doc: name, update: post.update, indexed: messages.prepare(name, conv, post.maps) },
        { doc: threadA, update: new Uint8Array([1]), indexed: messages.prepare(threadA, conv, edit(roomOf(threadA, conv), (d) => appendMessage(d, { id: held, author: alice, body: 'clash', createdAt: T0 })).maps) },
        { doc: name, update: change.update, indexed: messages.prepare(name, conv, change.maps) },
        // Two docs of one batch giving a new id its first row: the earlier append takes it.
        { doc: threadA, update: new Uint8Array([2]), indexed: messages.prepare(threadA, conv, edit(roomOf(threadA, conv), (d) => appendMessage(d, { id: fresh, author: alice, body: 'first', createdAt: T0 })).maps) },
        { doc: threadB, update: new Uint8Array([3]), indexed: messages.prepare(threadB, conv, edit(roomOf(threadB, conv), (d) => appendMessage(d, { id: fresh, author: alice, body: 'second', createdAt: T0 })).maps) }
      ]
      const results = await Promise.allSettled(writes.map((w, i) => b.store.appendUpdate(w.doc, w.update, (tx) => inSequence([
        () => w.indexed.write(tx),
        () => b.rows.bindClients(tx, w.doc, [{ client: 100 + i, memberId: alice }])
      ]))))
      for (const w of writes) w.indexed.done()
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected'])
      expect(String((results[1] as PromiseRejectedResult).reason)).toContain(`message ${held} belongs to another document`)
      expect(String((results[4] as PromiseRejectedResult).reason)).toContain(`message ${fresh} belongs to another document`)
      expect(await row('messages', (r) => r.id === id)).toEqual([expect.objectContaining({ doc: name, body, mentions: ['m_"x"'], card: null })])
      expect((await row('fileRefs', (r) => r.ref === id)).map((r) => [r.fileKey, r.deleted])).toEqual([[f2.key, false]])
      expect(await row('messages', (r) => r.id === held)).toEqual([expect.objectContaining({ doc: docName.conv(conv, 0), body: 'held' })])
      expect(await row('messages', (r) => r.id === fresh)).toEqual([expect.objectContaining({ doc: threadA, body: 'first' })])
      expect((await b.store.loadDoc(name)).length).toBe(2)
      expect((await b.store.loadDoc(threadA)).map((u) => [...u])).toEqual([[2]])
      expect(await b.store.loadDoc(threadB)).toEqual([])
      expect((await b.rows.clients(name)).map((c) => c.client).sort()).toEqual([100, 102])
      expect((await b.rows.clients(threadA)).map((c) => c.client)).toEqual([103])
      expect(await b.rows.clients(threadB)).toEqual([])
    })

    it('file refs: a message attaches exactly its uploads; a deleted one keeps them, marked deleted', async () => {
      const [f1, f2] = [file(alice), file(alice, { durationMs: 1500, peaks: [1, 50, 100] })]
      await b.insert('files', [f1, f2])
      expect(await messages.fileOf(f1.key)).toEqual({ owner: alice, contentType: 'text/plain', size: 12, voice: null })
      expect(await messages.fileOf(f2.key)).toEqual({ owner: alice, contentType: 'text/plain', size: 12, voice: { durationMs: 1500, peaks: [1, 50, 100] } })
      expect(await messages.fileOf(newId('file'))).toBeUndefined()
      const room = roomOf(docName.conv(conv, 0), conv)
      let id = ''
      await indexMessages(room, (d) => { id = appendMessage(d, { author: alice, body: 'files', attachments: [attachment(f1.key), attachment(f2.key)], createdAt: T0 }) })
      const refs = async () => (await row('fileRefs', (r) => r.ref === id)).map((r) => [r.fileKey, r.scope, r.deleted, r.taskId]).sort()
      expect(await refs()).toEqual([[f1.key, conv, false, null], [f2.key, conv, false, null]].sort())
      await indexMessages(room, (d) => findMessage(d, id)!.set('attachments', [attachment(f2.key)]))
      expect(await refs()).toEqual([[f2.key, conv, false, null]])
      await indexMessages(room, (d) => deleteMessage(d, id))
      expect(await refs()).toEqual([[f2.key, conv, true, null]])
    })

    it('tasks: rows and assignees follow the board; comment attachments are refs of the task', async () => {
      const scope: BoardScope = { board: conv, workspaceId: ws, conversationId: conv }
      const room = roomOf(docName.board(conv), conv)
      const doc = room.doc
      // As the relay does: the tasks and comments the update touched, indexed in its append.
      const index = async (change: (d: Y.Doc) => void) => {
        const { update } = edit(room, change)
        const c = room.board!.take()
        const comments = [...c.createdComments, ...c.updatedComments]
        const ids = [...c.createdTasks, ...c.updatedTasks].map((m) => String(m.get('id')))
        const indexed = tasks.prepare(scope, room.board!, doc, [...ids, ...comments.map((m) => String(m.get('taskId')))], comments)
        try {
          await b.store.appendUpdate(room.name, update, (tx) => indexed.write(tx))
        } finally {
          indexed.done()
        }
      }
      let id = ''
      await index((d) => { id = createTask(d, { createdBy: alice, title: 'Ship it', assignees: ['m_a', 'm_b'], labels: ['x'], createdAt: T0 }) })
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ id, workspaceId: ws, board: conv, conversationId: conv, title: 'Ship it', blocked: false, deleted: false, labels: ['x'], comments: '', commentCount: 0, archivedAt: null })])
      const assignees = async () => (await row('taskAssignees', (r) => r.taskId === id)).map((r) => r.memberId).sort()
      expect(await assignees()).toEqual(['m_a', 'm_b'])
      expect(await tasks.idTaken(id)).toBe(true)
      await index((d) => setTaskKeys(d, id, 'assignees', { remove: ['m_a'], add: ['m_c'] }))
      expect(await assignees()).toEqual(['m_b', 'm_c'])
      const f = file(alice)
      await b.insert('files', [f])
      let comment = ''
      await index((d) => { comment = addComment(d, { taskId: id, author: alice, body: 'see file', attachments: [attachment(f.key)], createdAt: T0 }) })
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ comments: 'see file', commentCount: 1 })])
      expect((await row('fileRefs', (r) => r.ref === comment)).map((r) => [r.fileKey, r.scope, r.taskId])).toEqual([[f.key, conv, id]])
      await index((d) => editCommentAttachments(d, comment, []))
      expect(await row('fileRefs', (r) => r.ref === comment)).toEqual([])

      // Archived: kept whole in its row until an edit makes it live again.
      await index((d) => updateTask(d, id, { status: 'done' }))
      const due = archivableTasks(doc, Date.now() + 1, 10)
      expect(due.map((a) => a.task.id)).toEqual([id])
      await tasks.archive(scope, due, T0 + 5)
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ archivedAt: T0 + 5, archive: JSON.parse(JSON.stringify(due[0])) })])
      await index((d) => updateTask(d, id, { title: 'Ship it again' }))
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ title: 'Ship it again', archivedAt: null, archive: null })])
      // An archive of the task as it stood before that edit lands too late: the row stays live.
      await tasks.archive(scope, due, T0 + 9)
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ title: 'Ship it again', archivedAt: null, archive: null })])

      // A task id indexed for another board is refused, and its row stays.
      const other = roomOf(docName.board(ws), null)
      other.doc.transact(() => tasksOf(other.doc).set(id, findTask(doc, id)!.clone()))
      const indexed = tasks.prepare({ board: ws, workspaceId: ws, conversationId: null }, other.board!, other.doc, [id])
      await expect(b.store.appendUpdate(docName.board(ws), new Uint8Array([9]), (tx) => indexed.write(tx))).rejects.toThrow(`task ${id} belongs to another board`)
      indexed.done()
      expect(await row('tasks', (r) => r.id === id)).toEqual([expect.objectContaining({ board: conv })])
    })

    it('doc_clients: a binding commits with its append, once', async () => {
      const name = docName.conv(conv, 1)
      await b.store.appendUpdate(name, new Uint8Array([1]), (tx) => b.rows.bindClients(tx, name, [{ client: 2 ** 40, memberId: alice }, { client: 7, memberId: alice }]))
      await b.store.appendUpdate(name, new Uint8Array([2]), (tx) => b.rows.bindClients(tx, name, [{ client: 7, memberId: 'm_other' }]))
      expect((await b.rows.clients(name)).sort((x, y) => x.client - y.client)).toEqual([{ client: 7, memberId: alice }, { client: 2 ** 40, memberId: alice }])
      expect(await b.rows.clients(docName.conv(conv, 2))).toEqual([])
    })
  })
}

/** The access seam (AccessControl, SPEC.md ACC1–ACC7) on one backend: every answer read now. */
export function accessContract<Tx, A extends boolean>(name: string, backend: () => Promise<RowsBackend<Tx, A>>) {
  describe(`access rows contract: ${name}`, () => {
    let b: RowsBackend<Tx, A>
    let access: AccessControl<A>
    const ws = newId('workspace')
    const otherWs = newId('workspace')
    const [alice, bob, guest] = [newId('member'), newId('member'), newId('member')]
    const [open, archived] = [newId('conversation'), newId('conversation')]
    const [root, reply] = [newId('message'), newId('message')]
    const who = (memberId: string, role: Principal['role'] = 'member', workspaceId = ws): Principal => ({ memberId, workspaceId, role, kind: 'user' })
    const check = async (p: Principal, doc: string) => await access.check(p, parseDocName(doc)!)

    beforeAll(async () => {
      b = await backend()
      access = new AccessControl(b.rows)
      await b.insert('workspaces', [{ id: ws, name: 'W', handle: `w${ws.slice(-6)}`, createdAt: T0 }, { id: otherWs, name: 'O', handle: `o${otherWs.slice(-6)}`, createdAt: T0 }])
      await b.insert('members', [[alice, 'member'], [bob, 'member'], [guest, 'guest']].map(([id, role]) => ({ id, workspaceId: ws, kind: 'user', name: id, handle: id!.replace('_', '-'), role, createdAt: T0 })))
      await b.insert('conversations', [
        { id: open, workspaceId: ws, kind: 'channel', name: 'open', isPrivate: false, createdBy: alice, createdAt: T0, liveSegment: 1 },
        { id: archived, workspaceId: ws, kind: 'channel', name: 'old', isPrivate: false, createdBy: alice, createdAt: T0, archivedAt: T0 + 1 }
      ])
      await b.insert('conversationMembers', [{ conversationId: open, memberId: alice, joinedAt: T0 + 7 }, { conversationId: open, memberId: guest, joinedAt: T0 }, { conversationId: archived, memberId: alice, joinedAt: T0 }])
      const row = (id: string, parentId: string | null) => ({ id, conversationId: open, doc: docName.conv(open, 0), parentId, author: alice, createdAt: T0, body: 'x', mentions: [], attachments: [], reactions: [] })
      await b.insert('messages', [row(root, null), row(reply, root)])
    })
    afterAll(async () => {
      await b?.store.close()
      await b?.destroy()
    })

    it('ACC1–ACC3: members of a conversation read and write its segments, board and threads; others nothing', async () => {
      const write = { canWrite: true, conversationId: open }
      for (const doc of [docName.conv(open, 0), docName.conv(open, 1), docName.board(open), docName.thread(root)]) {
        expect(await check(who(alice), doc), doc).toEqual(write)
        expect(await check(who(bob), doc), doc).toBeNull()
        expect(await check(who(alice, 'member', otherWs), doc), doc).toBeNull()
      }
      expect(await check(who(alice), docName.conv(open, 2))).toBeNull() // beyond the live segment
      expect(await check(who(alice), docName.thread(reply))).toBeNull() // a reply roots no thread
      expect(await check(who(alice), docName.conv(newId('conversation'), 0))).toBeNull()
      expect(await access.conversation(open, alice)).toEqual({ workspaceId: ws, liveSegment: 1, archivedAt: null, joinedAt: T0 + 7 })
      expect(await access.conversation(open, bob)).toEqual({ workspaceId: ws, liveSegment: 1, archivedAt: null, joinedAt: null })
      expect(await access.conversation(newId('conversation'), alice)).toBeUndefined()
    })

    it('ACC4–ACC5: the directory is read-only to the workspace; my doc is mine; the workspace board is not for guests', async () => {
      expect(await check(who(alice), docName.dir(ws))).toEqual({ canWrite: false, conversationId: null })
      expect(await check(who(alice, 'member', otherWs), docName.dir(ws))).toBeNull()
      expect(await check(who(alice), docName.me(alice))).toEqual({ canWrite: true, conversationId: null })
      expect(await check(who(bob), docName.me(alice))).toBeNull()
      expect(await check(who(bob), docName.board(ws))).toEqual({ canWrite: true, conversationId: null })
      // The role is read now: a principal claiming 'member' is still the guest its row says.
      expect(await check(who(guest, 'member'), docName.board(ws))).toBeNull()
      expect(await check(who(guest, 'guest'), docName.board(open))).toEqual({ canWrite: true, conversationId: open })
    })

    it('ACC6: an archived channel is read-only, with the reason', async () => {
      expect(await check(who(alice), docName.conv(archived, 0))).toEqual({ canWrite: false, conversationId: archived, readOnlyReason: 'this channel is archived; unarchive it to post or react' })
    })

    it('conversation rows: live segment, workspace, members; a seal moves the live segment once', async () => {
      const c = newId('conversation')
      await b.insert('conversations', [{ id: c, workspaceId: ws, kind: 'channel', name: 'seal', isPrivate: false, createdBy: bob, createdAt: T0 }])
      await b.insert('conversationMembers', [{ conversationId: c, memberId: bob, joinedAt: T0 }, { conversationId: c, memberId: alice, joinedAt: T0 }])
      expect([await b.rows.liveSegment(c), await b.rows.workspaceOf(c), (await b.rows.memberIds(c)).sort()]).toEqual([0, ws, [alice, bob].sort()])
      expect([await b.rows.liveSegment(newId('conversation')), await b.rows.workspaceOf(newId('conversation')), await b.rows.memberIds(newId('conversation'))]).toEqual([undefined, undefined, []])
      expect(await b.rows.bumpSegment(c, 0, 1)).toBe(true)
      expect(await b.rows.bumpSegment(c, 0, 1)).toBe(false)
      expect(await b.rows.liveSegment(c)).toBe(1)
    })

    it('a removal is seen by the next check', async () => {
      const c = newId('conversation')
      await b.insert('conversations', [{ id: c, workspaceId: ws, kind: 'channel', name: 'brief', isPrivate: true, createdBy: bob, createdAt: T0 }])
      await b.insert('conversationMembers', [{ conversationId: c, memberId: bob, joinedAt: T0 }])
      expect(await check(who(bob), docName.conv(c, 0))).toEqual({ canWrite: true, conversationId: c })
      await b.remove('conversationMembers', 'conversationId', c)
      expect(await check(who(bob), docName.conv(c, 0))).toBeNull()
    })
  })
}

/**
 * The guard's lookups (OWN1's unique ids, OWN10's attachments, BRD1's task ids) answered from the
 * backend's rows through GuardLookups, as the relay does where reads are promises: the same
 * verdicts on both backends.
 */
export function guardContract<Tx, A extends boolean>(name: string, backend: () => Promise<RowsBackend<Tx, A>>) {
  describe(`guard lookups contract: ${name}`, () => {
    let b: RowsBackend<Tx, A>
    const ws = newId('workspace')
    const [alice, bob] = [newId('member'), newId('member')]
    const conv = newId('conversation')
    const [taken, takenTask] = [newId('message'), newId('task')]
    const [mine, theirs] = [newId('file'), newId('file')]
    const attachment = (key: string): Attachment => ({ key, name: 'f.txt', contentType: 'text/plain', size: 12, url: `/files/${key}` })

    beforeAll(async () => {
      b = await backend()
      await b.insert('messages', [{ id: taken, conversationId: conv, doc: docName.conv(conv, 0), author: bob, createdAt: T0, body: 'x', mentions: [], attachments: [], reactions: [] }])
      await b.insert('files', [[mine, alice], [theirs, bob]].map(([key, owner]) => ({ key, workspaceId: ws, owner, sha256: 'a'.repeat(64), name: 'f.txt', contentType: 'text/plain', size: 12, createdAt: T0 })))
      await b.insert('tasks', [{ id: takenTask, workspaceId: ws, board: ws, title: 't', body: '', status: 'backlog', position: 'a0', createdBy: bob, createdAt: T0, updatedAt: T0, labels: [] }])
    })
    afterAll(async () => {
      await b?.store.close()
      await b?.destroy()
    })

    /** The guard's verdict on alice's update `change` to a fresh doc of `name`, and how many runs it took. */
    async function verdict(name: string, change: (doc: Y.Doc) => void) {
      const server = new Y.Doc()
      const parsed = parseDocName(name)!
      if (parsed.kind === 'conv') initSegment(server, conv, 0)
      const client = new Y.Doc()
      Y.applyUpdate(client, Y.encodeStateAsUpdate(server))
      const before = Y.encodeStateVector(client)
      change(client)
      const update = Y.encodeStateAsUpdate(client, before)
      const room = roomOf(name, conv)
      Y.applyUpdate(room.doc, Y.encodeStateAsUpdate(server))
      let runs = 0
      let result: ReturnType<typeof guardUpdate> | undefined
      // A read of either dialect, as a promise (SQLite's are values).
      const read = <T>(got: Got<T, A>) => Promise.resolve(got as T | Promise<T>)
      const reads = { idTaken: (id: string) => read(b.rows.messageTaken(id)), fileOf: (key: string) => read(b.rows.file(key)), taskIdTaken: (id: string) => read(b.rows.taskTaken(id)) }
      await guardWithLookups(reads, (lookups) => {
        runs++
        return guardUpdate(room.doc, update, {
          sender: alice, isAdmin: false, now: Date.now(), joinedAt: 0, docName: parsed, maxUpdateBytes: 256 * 1024,
          acceptsNewMessages: true, clientOwner: () => undefined, commentIdTaken: () => false, ...lookups
        })
      }, (r) => { result = r })
      return { ok: result!.ok, detail: result!.ok ? '' : result!.detail, runs }
    }

    it('OWN1: a new message under an id indexed anywhere is refused; a fresh id is accepted', async () => {
      const name = docName.conv(conv, 0)
      expect(await verdict(name, (d) => appendMessage(d, { id: taken, author: alice, body: 'again', createdAt: Date.now() }))).toEqual({ ok: false, detail: 'message id already exists', runs: 2 })
      expect(await verdict(name, (d) => appendMessage(d, { author: alice, body: 'new', createdAt: Date.now() }))).toEqual({ ok: true, detail: '', runs: 2 })
    })

    it('OWN10: a message attaches only its author\'s uploads', async () => {
      const name = docName.conv(conv, 0)
      expect(await verdict(name, (d) => appendMessage(d, { author: alice, body: 'f', attachments: [attachment(mine)], createdAt: Date.now() }))).toMatchObject({ ok: true })
      expect(await verdict(name, (d) => appendMessage(d, { author: alice, body: 'f', attachments: [attachment(mine), attachment(theirs)], createdAt: Date.now() }))).toMatchObject({ ok: false })
      expect(await verdict(name, (d) => appendMessage(d, { author: alice, body: 'f', attachments: [attachment(newId('file'))], createdAt: Date.now() }))).toMatchObject({ ok: false })
    })

    it('BRD1: a task under an id taken on any board is refused', async () => {
      const name = docName.board(conv)
      expect(await verdict(name, (d) => createTask(d, { id: takenTask, createdBy: alice, title: 'again', createdAt: Date.now() }))).toMatchObject({ ok: false, detail: 'task id already exists' })
      expect(await verdict(name, (d) => createTask(d, { createdBy: alice, title: 'new', createdAt: Date.now() }))).toMatchObject({ ok: true })
    })
  })
}

/** The update `change` makes to the room's doc (one transaction), and the maps it touched, as Room collects them. */
function edit(room: Room, change: (doc: Y.Doc) => void): { update: Uint8Array; maps: Y.Map<unknown>[] } {
  room.takeChanges()
  room.board?.take()
  let update: Uint8Array | null = null
  const onUpdate = (u: Uint8Array) => { update = u }
  room.doc.on('update', onUpdate)
  try {
    room.doc.transact(() => change(room.doc))
  } finally {
    room.doc.off('update', onUpdate)
  }
  if (!update) throw new Error('the edit changed nothing')
  const { created, updated } = room.takeChanges()
  return { update, maps: [...created, ...updated] }
}

const roomOf = (name: string, conversationId: string | null) => new Room(name, parseDocName(name)!, conversationId)
