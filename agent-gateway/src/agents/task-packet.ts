import * as Y from 'yjs'
import type { Db } from '@circlechat/db'
import { docName, listComments, type TaskComment } from '@circlechat/model'
import { SqliteStore } from '@circlechat/sync-server'
import type { AgentPacket } from '@circlechat/protocol'
import { withAbsoluteUrls } from '../services/files.js'

/** Open tasks in the packet: the contract's bound. */
export const MY_TASKS = 12
const RECENT_COMMENTS = 10

type MyTask = AgentPacket['myTasks'][number]
type PacketTask = NonNullable<AgentPacket['task']>

interface TaskRow {
  id: string; board: string; conversation_id: string | null; conversation_name: string | null; title: string; body: string
  status: string; blocked: number; progress: number; due_at: number | null; parent_id: string | null; created_by: string
  labels: string; comment_count: number; assignees: string
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/**
 * The task half of a packet (docs/agents.md "Packet"), from what is committed: the task index for
 * tasks and assignees, and the board docs as stored for comments (the index keeps only their
 * count). Works where only the database is at hand (a worker process). Every read is limited to
 * boards the agent can see: its conversations' and its workspace's.
 */
export class TaskPacket {
  readonly #sql
  readonly #handleOf: (memberId: string) => string
  readonly #boards = new Map<string, Y.Doc>()
  readonly #store
  readonly #select

  /** `publicBaseUrl`: comment attachments carry absolute URLs, as message attachments in packets do. */
  constructor(db: Db, private readonly memberId: string, private readonly workspaceId: string, handleOf: (memberId: string) => string, private readonly publicBaseUrl: string) {
    this.#sql = db.$client
    this.#store = new SqliteStore(db)
    this.#handleOf = handleOf
    this.#select = `
      SELECT t.id, t.board, t.conversation_id, c.name AS conversation_name, t.title, t.body, t.status, t.blocked, t.progress,
        t.due_at, t.parent_id, t.created_by, t.labels, t.comment_count,
        (SELECT json_group_array(member_id) FROM (SELECT member_id FROM task_assignees WHERE task_id = t.id ORDER BY member_id)) AS assignees
      FROM tasks t LEFT JOIN conversations c ON c.id = t.conversation_id
      WHERE t.workspace_id = @ws AND t.deleted = 0
        AND ((t.conversation_id IS NULL AND (SELECT role FROM members WHERE id = @me) <> 'guest')
          OR t.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE member_id = @me))`
  }

  /** Open tasks assigned to the agent, most recently changed first. */
  myTasks(limit = MY_TASKS): MyTask[] {
    const rows = this.#sql.prepare(`${this.#select}
        AND t.status != 'done' AND t.id IN (SELECT task_id FROM task_assignees WHERE member_id = @me)
      ORDER BY t.updated_at DESC, t.id LIMIT @limit`).all({ ws: this.workspaceId, me: this.memberId, limit }) as TaskRow[]
    return rows.map((r) => {
      const last = r.comment_count > 0 ? this.#comments(r).at(-1) : undefined
      return {
        id: r.id, title: r.title, status: r.status, blocked: r.blocked === 1, progress: r.progress, dueAt: iso(r.due_at),
        conversationId: r.conversation_id, conversationName: r.conversation_name, labels: JSON.parse(r.labels) as string[],
        commentCount: r.comment_count,
        latestComment: last ? this.#comment(last) : null
      }
    })
  }

  /** One task the agent can see, with its subtasks and latest comments; null if it cannot. */
  task(taskId: string): PacketTask | null {
    const r = this.#sql.prepare(`${this.#select} AND t.id = @id`).get({ ws: this.workspaceId, me: this.memberId, id: taskId }) as TaskRow | undefined
    if (!r) return null
    const assignees = JSON.parse(r.assignees) as string[]
    const subtasks = this.#sql.prepare(`${this.#select} AND t.parent_id = @id ORDER BY t.position, t.id LIMIT 50`).all({ ws: this.workspaceId, me: this.memberId, id: taskId }) as TaskRow[]
    return {
      id: r.id, conversationId: r.conversation_id, conversationName: r.conversation_name, title: r.title, bodyMd: r.body,
      status: r.status, blocked: r.blocked === 1, progress: r.progress, dueAt: iso(r.due_at), labels: JSON.parse(r.labels) as string[],
      assignees, assigneeHandles: assignees.map(this.#handleOf), parentId: r.parent_id, createdBy: r.created_by,
      subtasks: subtasks.map((s) => ({ id: s.id, title: s.title, status: s.status, assignees: JSON.parse(s.assignees) as string[] })),
      recentComments: this.#comments(r).slice(-RECENT_COMMENTS).map((c) => ({ id: c.id, ...this.#comment(c) }))
    }
  }

  #comment(c: TaskComment) {
    return { memberId: c.author, memberHandle: this.#handleOf(c.author), bodyMd: c.body, ts: iso(c.createdAt)!, attachments: withAbsoluteUrls(this.publicBaseUrl, c.attachments) }
  }

  #comments(r: TaskRow): TaskComment[] {
    let doc = this.#boards.get(r.board)
    if (!doc) {
      doc = new Y.Doc()
      const updates = this.#store.loadDocSync(docName.board(r.board))
      doc.transact(() => { for (const u of updates) Y.applyUpdate(doc!, u) })
      this.#boards.set(r.board, doc)
    }
    return listComments(doc, r.id)
  }

  /** Frees the board docs read for this packet. */
  close() {
    for (const d of this.#boards.values()) d.destroy()
    this.#boards.clear()
  }
}
