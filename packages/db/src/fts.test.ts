import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb, type Db } from './client.js'

/**
 * The FTS5 indexes follow the text of messages and tasks through triggers (migrations 0001,
 * 0009, 0021, 0022). The indexers upsert whole rows, so the triggers themselves must tell a text
 * change from a reaction or a card move, and the scope tokens must follow the message.
 */
describe('full-text triggers', () => {
  let dir: string
  let db: Db
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-fts-'))
    db = openDb(join(dir, 'db.sqlite'))
    db.$client.pragma('foreign_keys = OFF') // rows below stand alone, without their workspace
  })
  afterAll(() => {
    db.$client.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Rows of the index's own storage: any re-index of a row writes new ones. */
  const indexWrites = (table: string) => db.$client.prepare(`SELECT count(*) AS n, max(id) AS last FROM ${table}_data`).get()
  const matches = (table: string, query: string) => db.$client.prepare(`SELECT rowid FROM ${table} WHERE ${table} MATCH ?`).pluck().all(query)

  it('re-indexes a message only when its body changes, with its scope tokens', () => {
    const sql = db.$client
    sql.prepare(`INSERT INTO messages (id, conversation_id, doc, author, created_at, deleted, body, mentions, attachments, reactions)
      VALUES ('msg_1', 'c_aaaa', 'conv:c_aaaa:0', 'm_bbbb', 1, 0, 'hello lighthouse', '[]', '[]', '[]')`).run()
    const [rowid] = matches('messages_fts', 'body : "lighthouse" AND scope : "incaaaa" AND scope : "bymbbbb"')
    expect(rowid).toBeDefined()

    const before = indexWrites('messages_fts')
    sql.prepare(`UPDATE messages SET body = body, reactions = '[{"emoji":"👍","memberId":"m_x"}]', thread_count = 3 WHERE id = 'msg_1'`).run()
    expect(indexWrites('messages_fts')).toEqual(before)

    sql.prepare(`UPDATE messages SET body = 'hello harbour' WHERE id = 'msg_1'`).run()
    expect(indexWrites('messages_fts')).not.toEqual(before)
    expect(matches('messages_fts', '"lighthouse"')).toEqual([])
    expect(matches('messages_fts', 'body : "harbour" AND scope : "incaaaa"')).toEqual([rowid])
    sql.prepare(`DELETE FROM messages WHERE id = 'msg_1'`).run()
    expect(matches('messages_fts', '"harbour" OR scope : "incaaaa"')).toEqual([])
  })

  it('re-indexes a task only when its title, description or comments change', () => {
    const sql = db.$client
    sql.prepare(`INSERT INTO tasks (id, workspace_id, board, conversation_id, title, body, status, blocked, position, progress, created_by, created_at, updated_at, deleted, labels, comments, comment_count)
      VALUES ('task_1', 'w_1', 'c_aaaa', 'c_aaaa', 'Paint the lighthouse', 'white and red', 'todo', 0, 'a0', 0, 'm_bbbb', 1, 1, 0, '[]', '', 0)`).run()
    const before = indexWrites('tasks_fts')
    // What a card move writes: the whole row again, the same text.
    sql.prepare(`UPDATE tasks SET title = title, body = body, comments = comments, status = 'doing', position = 'a1', updated_at = 2 WHERE id = 'task_1'`).run()
    expect(indexWrites('tasks_fts')).toEqual(before)

    for (const change of [`title = 'Paint the harbour'`, `body = 'blue'`, `comments = 'done by friday'`]) {
      const at = indexWrites('tasks_fts')
      sql.prepare(`UPDATE tasks SET ${change} WHERE id = 'task_1'`).run()
      expect(indexWrites('tasks_fts')).not.toEqual(at)
    }
    expect(matches('tasks_fts', '"lighthouse" OR "white" OR "red"')).toEqual([])
    expect(matches('tasks_fts', '"harbour" "blue" "friday"')).toHaveLength(1)
  })
})
