import { Hono } from 'hono'
import { z } from 'zod'
import {
  LINK_KINDS, MAX_ASSIGNEES, MAX_COMMENT_CHARS, MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, MAX_TASK_LABELS, MAX_TITLE_CHARS, TASK_STATUSES
} from '@circlechat/model'
import type { Gateway } from '../deps.js'
import { authOf, requireAuth } from '../middleware/require-auth.js'
import { validate } from '../middleware/validate.js'
import {
  assignTask, commentOnTask, createBoardTask, editTaskComment, getTask, linkTask, listVisibleTasks, myOpenTasks, patchTask,
  removeTask, removeTaskComment, setTaskLabels, unassignTask, unlinkTask
} from '../services/tasks.js'
import { attachmentsInputSchema } from '../services/files.js'
import { memberId } from './schemas.js'

const id = z.string().min(1).max(64)
const status = z.enum(TASK_STATUSES)
const title = z.string().max(MAX_TITLE_CHARS, `Titles are at most ${MAX_TITLE_CHARS} characters.`).refine((s) => s.trim().length > 0, 'A task needs a title.')
const description = z.string().max(MAX_DESCRIPTION_CHARS, `Descriptions are at most ${MAX_DESCRIPTION_CHARS.toLocaleString('en')} characters.`)
const label = z.string().max(MAX_LABEL_CHARS, `Labels are at most ${MAX_LABEL_CHARS} characters.`)
const labels = z.array(label).max(MAX_TASK_LABELS, `At most ${MAX_TASK_LABELS} labels per task.`)
/** Milliseconds since 1970, or an ISO 8601 time; null clears it. */
const dueAt = z
  .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))], 'A time: milliseconds since 1970 or ISO 8601.')
  .nullable()
const progress = z.number().int('A whole number.').min(0).max(100)
const position = z.string().regex(/^[0-9A-Za-z]{1,64}$/, 'A fractional index key (1–64 letters and digits).')
const commentText = z.string().max(MAX_COMMENT_CHARS, `Comments are at most ${MAX_COMMENT_CHARS.toLocaleString('en')} characters.`)

const listQuery = z.object({ conversationId: id.optional(), assignee: id.optional(), status: status.optional() })
const createBody = z.object({
  conversationId: id.nullable().optional(),
  title,
  bodyMd: description.optional(),
  status: status.optional(),
  assignees: z.array(memberId).max(MAX_ASSIGNEES, `A task has at most ${MAX_ASSIGNEES} assignees.`).optional(),
  labels: labels.optional(),
  dueAt: dueAt.optional(),
  progress: progress.optional(),
  parentId: id.nullable().optional(),
  source: z.object({ conversationId: id, messageId: id }).optional()
})
const patchBody = z
  .object({
    title: title.optional(),
    bodyMd: description.optional(),
    status: status.optional(),
    blocked: z.boolean().optional(),
    progress: progress.optional(),
    dueAt: dueAt.optional(),
    position: position.optional(),
    parentId: id.nullable().optional()
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'Nothing to change: pass at least one field.')
const assigneeBody = z.object({ memberId })
const labelsBody = z.object({ labels })
const linkBody = z.object({ linkedTaskId: id, kind: z.enum(LINK_KINDS) })
/** An edit changes the text, the files (the whole list, as when posting), or both. */
const commentEditSchema = z.object({ bodyMd: commentText.optional(), attachments: attachmentsInputSchema.optional() })
  .refine((e) => e.bodyMd !== undefined || e.attachments !== undefined, 'Send bodyMd, attachments or both.')
/** Files alone need no text: the service, which sees the files, refuses an empty comment. */
const newCommentSchema = z.object({ bodyMd: commentText.default(''), attachments: attachmentsInputSchema.optional() })

/**
 * Mounted at /api: tasks on conversation and workspace boards (services/tasks.ts). Auth is
 * attached per path, as in messages.ts.
 */
export function taskRoutes(gw: Gateway) {
  return new Hono()
    .use('/tasks', requireAuth())
    .use('/tasks/*', requireAuth())
    .use('/my-tasks', requireAuth())
    .get('/tasks', validate('query', listQuery), async (c) => c.json({ tasks: await listVisibleTasks(gw, authOf(c), c.req.valid('query')) }))
    .post('/tasks', validate('json', createBody), async (c) => c.json({ task: await createBoardTask(gw, authOf(c), c.req.valid('json')) }, 201))
    .get('/my-tasks', async (c) => c.json({ tasks: await myOpenTasks(gw, authOf(c)) }))
    .get('/tasks/:id', async (c) => c.json({ task: await getTask(gw, authOf(c), c.req.param('id')) }))
    .patch('/tasks/:id', validate('json', patchBody), async (c) => c.json({ task: await patchTask(gw, authOf(c), c.req.param('id'), c.req.valid('json')) }))
    .delete('/tasks/:id', async (c) => {
      await removeTask(gw, authOf(c), c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/tasks/:id/assignees', validate('json', assigneeBody), async (c) =>
      c.json({ task: await assignTask(gw, authOf(c), c.req.param('id'), c.req.valid('json').memberId) })
    )
    .delete('/tasks/:id/assignees/:memberId', async (c) => c.json({ task: await unassignTask(gw, authOf(c), c.req.param('id'), c.req.param('memberId')) }))
    .put('/tasks/:id/labels', validate('json', labelsBody), async (c) =>
      c.json({ task: await setTaskLabels(gw, authOf(c), c.req.param('id'), c.req.valid('json').labels) })
    )
    .post('/tasks/:id/links', validate('json', linkBody), async (c) => c.json({ task: await linkTask(gw, authOf(c), c.req.param('id'), c.req.valid('json')) }, 201))
    .delete('/tasks/:id/links/:linkId', async (c) => c.json({ task: await unlinkTask(gw, authOf(c), c.req.param('id'), c.req.param('linkId')) }))
    .post('/tasks/:id/comments', validate('json', newCommentSchema), async (c) =>
      c.json({ comment: await commentOnTask(gw, authOf(c), c.req.param('id'), c.req.valid('json')) }, 201)
    )
    .patch('/tasks/:id/comments/:commentId', validate('json', commentEditSchema), async (c) =>
      c.json({ comment: await editTaskComment(gw, authOf(c), c.req.param('id'), c.req.param('commentId'), c.req.valid('json')) })
    )
    .delete('/tasks/:id/comments/:commentId', async (c) => {
      await removeTaskComment(gw, authOf(c), c.req.param('id'), c.req.param('commentId'))
      return c.json({ ok: true })
    })
}
