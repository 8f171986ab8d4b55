import { and, eq } from 'drizzle-orm'
import { members, workspaces } from '@circlechat/db'
import { docName, listComments } from '@circlechat/model'
import type { AgentAction } from '@circlechat/protocol'
import type { Origin } from '@circlechat/sync-server'
import type { Gateway } from '../deps.js'
import { ApiError } from '../errors.js'
import type { Actor } from '../services/conversations.js'
import { assignTask, commentOnTask, createBoardTask, patchTask, type PatchTaskInput } from '../services/tasks.js'
import { checkBody } from './reply-guard.js'
import { takePostAllowance } from './post-limits.js'
import { isMember, requireMember, taskInReach } from './reach.js'
import { shareFiles } from './share-files.js'
import { refuse } from './refusal.js'
import type { AgentRecord } from './store.js'

type TaskAction = Extract<AgentAction, { type: 'create_task' | 'update_task' | 'assign_task' | 'task_comment' | 'share_to_task' }>
const TASK_ACTIONS: ReadonlySet<string> = new Set(['create_task', 'update_task', 'assign_task', 'task_comment', 'share_to_task'])
export const isTaskAction = (a: AgentAction): a is TaskAction => TASK_ACTIONS.has(a.type)

/** How many of a task's latest comments a new one must not nearly repeat. */
const RECENT_COMMENTS = 20

/**
 * The board actions (docs/agents.md "Actions"): server-authored edits through services/tasks.ts
 * with the agent as actor, so an agent meets every check a person does (membership of the board's
 * conversation at this moment, assignees in that conversation, title and body limits). Its text
 * passes the reply-guard first. The service's refusals reach the agent as the reason.
 */
export async function applyTaskAction(gw: Gateway, rec: AgentRecord, origin: Origin, action: TaskAction, ctx: { conversationId: string | null }): Promise<unknown> {
  const actor = actorOf(gw, rec)
  try {
    switch (action.type) {
      case 'create_task': {
        // The trigger's conversation by default (a task asked for in #team goes on #team's board),
        // else the workspace's board.
        const named = action.conversation_id ?? null
        if (named) requireMember(gw.db, rec, named)
        const conversationId = named ?? (ctx.conversationId && isMember(gw.db, rec, ctx.conversationId) ? ctx.conversationId : null)
        const status = action.status === 'blocked' ? undefined : action.status
        const task = await createBoardTask(gw, actor, {
          conversationId, title: action.title, bodyMd: guarded(action.body_md), status,
          assignees: action.assignees, labels: action.labels, dueAt: dueAtOf(action.due_at), parentId: action.parent_id ?? null
        }, { origin })
        if (action.status === 'blocked') await patchTask(gw, actor, task.id, { blocked: true }, { origin })
        return { taskId: task.id, conversationId: task.conversationId }
      }
      case 'update_task': {
        taskInReach(gw.db, rec, action.task_id)
        const patch: PatchTaskInput = {
          title: action.title, bodyMd: guarded(action.body_md), progress: action.progress === undefined ? undefined : Math.round(action.progress),
          dueAt: dueAtOf(action.due_at), blocked: action.blocked
        }
        // The seed's `blocked` status is our flag; the card stays in its column.
        if (action.status === 'blocked') patch.blocked = action.blocked ?? true
        else patch.status = action.status
        if (Object.values(patch).every((v) => v === undefined)) refuse('nothing to change: pass title, body_md, status, progress, due_at or blocked')
        const task = await patchTask(gw, actor, action.task_id, patch, { origin })
        return { taskId: task.id, status: task.status, blocked: task.blocked, progress: task.progress }
      }
      case 'assign_task': {
        taskInReach(gw.db, rec, action.task_id)
        const memberId = action.member_id ?? memberByHandle(gw, rec, action.handle!)
        const task = await assignTask(gw, actor, action.task_id, memberId, { origin })
        return { taskId: task.id, assignees: task.assignees }
      }
      case 'task_comment':
      case 'share_to_task': {
        // Refused before anything is fetched when the comment could never land.
        const { board, conversationId } = taskInReach(gw.db, rec, action.task_id)
        const doc = await gw.sync.getDoc(docName.board(board))
        const recent = listComments(doc, action.task_id).slice(-RECENT_COMMENTS).map((c) => c.body)
        // Files alone need no text (share_to_task without body_md), as for share_files.
        const sharing = action.type === 'share_to_task'
        const body = sharing && !action.body_md?.trim() ? '' : guarded(action.body_md, recent, true)!
        const attachments = sharing ? await shareFiles(gw, rec, action.files) : []
        const overLimit = await takePostAllowance(gw, rec.agent.id, conversationId ?? board) // a comment is a post on the board
        if (overLimit) refuse(overLimit)
        const comment = await commentOnTask(gw, actor, action.task_id, { bodyMd: body, attachments }, { origin })
        return { taskId: action.task_id, commentId: comment.id }
      }
    }
  } catch (err) {
    // The service speaks in HTTP errors; the agent gets their message.
    if (err instanceof ApiError) refuse(err.message)
    throw err
  }
}

/** The agent as the task service's actor. */
function actorOf(gw: Gateway, rec: AgentRecord): Actor {
  const workspace = gw.db.select().from(workspaces).where(eq(workspaces.id, rec.member.workspaceId)).get()
  return workspace ? { member: rec.member, workspace } : refuse('the agent has no workspace')
}

/** A text body after the reply-guard (secrets scrubbed); an absent or empty description passes as is. */
function guarded(body: string | undefined, recentBodies: readonly string[] = [], required = false): string | undefined {
  if (body === undefined || (!required && body.trim() === '')) return body
  const verdict = checkBody(body, { recentBodies })
  if (!verdict.ok) return refuse(`reply-guard (${verdict.category}): ${verdict.reason}`)
  return verdict.body
}

/** ISO 8601 or epoch ms (the seed sends either); null clears the due date. */
function dueAtOf(v: string | number | null | undefined): number | null | undefined {
  if (v === undefined || v === null) return v
  const ms = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isSafeInteger(ms) || ms < 0) refuse(`due_at ${JSON.stringify(v)} is not a time: send ISO 8601 or epoch milliseconds`)
  return ms
}

function memberByHandle(gw: Gateway, rec: AgentRecord, handle: string): string {
  const h = handle.replace(/^@/, '').toLowerCase()
  const row = gw.db.select({ id: members.id }).from(members)
    .where(and(eq(members.workspaceId, rec.member.workspaceId), eq(members.handle, h), eq(members.deactivated, false))).get()
  return row?.id ?? refuse(`no active member @${h} in this workspace`)
}
