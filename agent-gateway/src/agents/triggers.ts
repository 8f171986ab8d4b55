import type { Db } from '@circlechat/db'
import { partitionMentions } from '@circlechat/model'
import { originMember, type MessageChange } from '@circlechat/sync-server'
import type { TriggerEvent } from './packet.js'
import type { TaskChange } from './board-feed.js'

export interface Wake {
  agentId: string
  event: TriggerEvent
  delayMs: number
}

/** @everyone wakes every agent of the channel, spaced out so they do not answer in one burst. */
const STAGGER_MS = 400
/** Conversations whose bot turns are counted (~60 B each); the oldest count beyond is forgotten,
 *  giving agents there a fresh allowance of `botTurnLimit`, never an endless loop. */
const BOT_TURNS_LIMIT = 10_000

/**
 * Turns the change feed into agent wakes (docs/agents.md "Triggers"). An agent
 * never wakes itself. Agents' own posts count as bot turns per conversation; after
 * `botTurnLimit` of them with no human message between, agent-caused wakes stop there until a
 * human speaks.
 */
export class TriggerRouter {
  readonly #botTurns = new Map<string, number>()
  // This runs for every message the relay commits, so it must stay cheap: statements are
  // prepared once and the conversation's agents come from one query. (Building a Drizzle query
  // per agent per message was the largest cost of a busy channel with 20 agents.)
  readonly #authorKind
  readonly #convKind
  readonly #agents
  readonly #inThreadStmt
  readonly #boardConv
  readonly #workspaceAgents
  readonly #assigned
  readonly #involved

  constructor(private readonly db: Db, private readonly botTurnLimit: number) {
    const sql = db.$client
    this.#authorKind = sql.prepare('SELECT kind FROM members WHERE id = ?').pluck()
    this.#convKind = sql.prepare('SELECT kind FROM conversations WHERE id = ?').pluck()
    this.#agents = sql.prepare(`
      SELECT a.id AS agentId, a.member_id AS memberId FROM agents a JOIN conversation_members cm ON cm.member_id = a.member_id
      JOIN members m ON m.id = a.member_id WHERE cm.conversation_id = ? AND m.deactivated = 0`)
    this.#inThreadStmt = sql.prepare(`
      SELECT 1 FROM messages WHERE (id = ? OR parent_id = ?) AND (author = ? OR EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?)) LIMIT 1`).pluck()
    this.#boardConv = sql.prepare('SELECT 1 FROM conversations WHERE id = ?').pluck()
    this.#workspaceAgents = sql.prepare(`
      SELECT a.id AS agentId, a.member_id AS memberId FROM agents a JOIN members m ON m.id = a.member_id WHERE m.workspace_id = ? AND m.deactivated = 0`)
    this.#assigned = sql.prepare('SELECT 1 FROM task_assignees WHERE task_id = ? AND member_id = ?').pluck()
    // The task's creator and assignees, as the index has them once the change is committed.
    this.#involved = sql.prepare(`
      SELECT created_by FROM tasks WHERE id = ? AND deleted = 0 UNION SELECT ta.member_id FROM task_assignees ta JOIN tasks t ON t.id = ta.task_id WHERE ta.task_id = ? AND t.deleted = 0`).pluck()
  }

  /** Counts an agent-caused change in a conversation; false once its wakes are cut. A human's resets. */
  #turn(key: string, byAgent: boolean): boolean {
    if (!byAgent) {
      this.#botTurns.delete(key)
      return true
    }
    const turns = (this.#botTurns.get(key) ?? 0) + 1
    this.#botTurns.set(key, turns)
    if (this.#botTurns.size > BOT_TURNS_LIMIT) this.#botTurns.delete(this.#botTurns.keys().next().value!)
    return turns <= this.botTurnLimit
  }

  wakesFor(change: MessageChange): Wake[] {
    if (change.kind !== 'created' || change.origin.source === 'server') return []
    const { message, conversationId } = change
    const authorKind = this.#authorKind.get(message.author) as string | undefined
    const byAgent = authorKind === 'agent'
    if (!this.#turn(conversationId, byAgent)) return []
    const agents = this.#agents.all(conversationId) as Array<{ agentId: string; memberId: string }>
    if (agents.length === 0) return [] // most conversations: nothing more to read
    const kind = this.#convKind.get(conversationId) as 'channel' | 'dm' | undefined
    const mentions = partitionMentions(message.mentions)
    const broadcast = mentions.broadcast.length > 0
    const direct = new Set(mentions.direct)
    const base = { conversationId, messageId: message.id, byAgent }
    const wakes: Wake[] = []
    let staggered = 0
    for (const { agentId, memberId } of agents) {
      if (memberId === message.author) continue
      let event: TriggerEvent | null = null
      let delayMs = 0
      if (direct.has(memberId)) event = { trigger: 'mention', ...base }
      else if (broadcast) {
        event = { trigger: 'mention', ...base }
        delayMs = STAGGER_MS * staggered++
      } else if (kind === 'dm') event = { trigger: 'dm', ...base }
      else if (message.parentId && this.#inThread(message.parentId, memberId)) event = { trigger: 'thread_reply', ...base }
      else if (!message.parentId && !byAgent && direct.size === 0) event = { trigger: 'channel_post', ...base }
      if (event) wakes.push({ agentId, event, delayMs })
    }
    return wakes
  }

  /**
   * Board changes (board-feed.ts): `task_assigned` for an agent someone else added to a task's
   * assignees, `task_comment` for a new comment on a task the agent is assigned to or created
   * (a person's comment) or that mentions it (anyone's). Only agents that can see the board are
   * woken (members of its conversation; any of the workspace for the workspace board), never the
   * one who made the change, and agent-caused changes count toward the same bot-turn limit as
   * agents' posts in that conversation.
   */
  wakesForTask(change: TaskChange): Wake[] {
    if (change.origin.source === 'server') return []
    const actor = originMember(change.origin)
    const byAgent = !!actor && this.#authorKind.get(actor) === 'agent'
    const conversationId = this.#boardConv.get(change.board) === 1 ? change.board : null
    if (!this.#turn(conversationId ?? change.board, byAgent)) return []
    const visible = (conversationId ? this.#agents.all(conversationId) : this.#workspaceAgents.all(change.board)) as Array<{ agentId: string; memberId: string }>
    const base = { conversationId, taskId: change.taskId, byAgent }
    const wakes: Wake[] = []
    if (change.kind === 'assigned') {
      const added = new Set(change.memberIds)
      for (const { agentId, memberId } of visible) {
        // The index confirms the assignment is committed (and was not undone in the meantime).
        if (memberId === actor || !added.has(memberId) || this.#assigned.get(change.taskId, memberId) !== 1) continue
        wakes.push({ agentId, event: { trigger: 'task_assigned', ...base }, delayMs: 0 })
      }
      return wakes
    }
    const mentioned = new Set(change.mentions)
    // A person's comment reaches everyone on the task; an agent's only those it names, so two
    // agents on one task do not answer each other forever.
    const involved = byAgent ? new Set<string>() : new Set(this.#involved.all(change.taskId, change.taskId) as string[])
    for (const { agentId, memberId } of visible) {
      if (memberId === change.author || memberId === actor) continue
      if (mentioned.has(memberId) || involved.has(memberId)) wakes.push({ agentId, event: { trigger: 'task_comment', ...base, commentId: change.commentId }, delayMs: 0 })
    }
    return wakes
  }

  /** The agent posted in the thread (root included) or was mentioned in it. */
  #inThread(rootId: string, memberId: string): boolean {
    return this.#inThreadStmt.get(rootId, rootId, memberId, memberId) === 1
  }
}
