import type { conversations, messages, users } from '@circlechat/db'
import type { Attachment, LinkKind, Message, MessageCard, Task, TaskComment, TaskSource, TaskStatus } from '@circlechat/model'
import type { MemberRow, WorkspaceRow } from '../auth/principal.js'
import { fileUrl } from './files.js'

/** The JSON shapes of docs/api.md, built in one place so every route answers alike. */

export const userShape = (u: Pick<typeof users.$inferSelect, 'id' | 'email'>) => ({ id: u.id, email: u.email })

export const memberShape = (m: MemberRow) => ({
  id: m.id,
  kind: m.kind,
  name: m.name,
  handle: m.handle,
  role: m.role,
  avatar: m.avatar,
  title: m.title,
  reportsTo: m.reportsTo
})
export type MemberJson = ReturnType<typeof memberShape>

export const workspaceShape = (w: WorkspaceRow) => ({ id: w.id, name: w.name, handle: w.handle, icon: w.icon ? fileUrl(w.icon) : null })

export type ConversationRow = typeof conversations.$inferSelect

export const conversationShape = (c: ConversationRow, memberIds: string[], unread = { count: 0, mentions: 0 }) => ({
  id: c.id,
  kind: c.kind,
  name: c.name,
  topic: c.topic,
  description: c.description,
  isPrivate: c.isPrivate,
  createdBy: c.createdBy,
  archivedAt: c.archivedAt,
  memberIds,
  liveSegment: c.liveSegment,
  unreadCount: unread.count,
  unreadMentions: unread.mentions
})
export type ConversationJson = ReturnType<typeof conversationShape>

export interface MessageJson {
  id: string
  conversationId: string
  memberId: string
  bodyMd: string
  parentId: string | null
  ts: string
  createdAt: number
  editedAt: number | null
  deleted: boolean
  mentions: string[]
  reactions: Array<{ emoji: string; memberId: string }>
  attachments: unknown[]
  threadCount: number
  lastReplyAt: number | null
  /** An approval card on an agent's message (server-written). */
  card: MessageCard | null
}

/** From the messages index table (REST reads). */
export const messageRowShape = (r: typeof messages.$inferSelect): MessageJson => ({
  id: r.id,
  conversationId: r.conversationId,
  memberId: r.author,
  bodyMd: r.deleted ? '' : r.body,
  parentId: r.parentId,
  ts: new Date(r.createdAt).toISOString(),
  createdAt: r.createdAt,
  editedAt: r.editedAt,
  deleted: r.deleted,
  mentions: r.mentions,
  reactions: r.reactions,
  attachments: r.attachments,
  threadCount: r.threadCount,
  lastReplyAt: r.lastReplyAt,
  card: r.card ?? null
})

/** From the live doc (REST writes answer with what they just wrote, before the index catches up). */
export const messageDocShape = (m: Message, conversationId: string): MessageJson => ({
  id: m.id,
  conversationId,
  memberId: m.author,
  bodyMd: m.body,
  parentId: m.parentId,
  ts: new Date(m.createdAt).toISOString(),
  createdAt: m.createdAt,
  editedAt: m.editedAt,
  deleted: m.deleted,
  mentions: m.mentions,
  reactions: m.reactions,
  attachments: m.attachments,
  threadCount: m.threadCount,
  lastReplyAt: m.lastReplyAt,
  card: m.card
})

// ---- Tasks ---------------------------------------------------------------------------------

export interface TaskLinkJson {
  id: string
  taskId: string
  kind: LinkKind
  /** outgoing: stored on this task ("this blocks that"); incoming: on the other ("blocked by"). */
  direction: 'outgoing' | 'incoming'
  title: string
  status: TaskStatus
}

export interface SubtaskJson {
  id: string
  title: string
  status: TaskStatus
  assignees: string[]
}

export interface TaskCommentJson {
  id: string
  taskId: string
  memberId: string
  memberHandle: string | null
  bodyMd: string
  mentions: string[]
  /** As a message's: `{key, name, contentType, size, url, width?, height?}` (docs/api.md). */
  attachments: Attachment[]
  ts: string
  createdAt: number
  editedAt: number | null
}

export interface TaskActivityJson {
  memberId: string
  memberHandle: string | null
  field: string
  from: unknown
  to: unknown
  at: number
}

export interface TaskJson {
  id: string
  /** null: the workspace's board, tied to no conversation. */
  conversationId: string | null
  conversationName: string | null
  title: string
  bodyMd: string
  status: TaskStatus
  blocked: boolean
  progress: number
  dueAt: number | null
  position: string
  labels: string[]
  assignees: string[]
  assigneeHandles: string[]
  parentId: string | null
  createdBy: string
  createdAt: number
  updatedAt: number
  source: TaskSource | null
  commentCount: number
  links: TaskLinkJson[]
  subtasks: SubtaskJson[]
  /** The last few comments, oldest first (lists); `comments` has all of them (one task). */
  recentComments: TaskCommentJson[]
  comments?: TaskCommentJson[]
  activity?: TaskActivityJson[]
}

export const taskCommentShape = (c: TaskComment, handles: ReadonlyMap<string, string>): TaskCommentJson => ({
  id: c.id,
  taskId: c.taskId,
  memberId: c.author,
  memberHandle: handles.get(c.author) ?? null,
  bodyMd: c.body,
  mentions: c.mentions,
  attachments: c.attachments,
  ts: new Date(c.createdAt).toISOString(),
  createdAt: c.createdAt,
  editedAt: c.editedAt
})

/** From a board doc read (services/tasks.ts gathers the pieces a task alone does not hold). */
export const taskShape = (
  t: Task,
  ctx: {
    conversation: { id: string; name: string } | null
    handles: ReadonlyMap<string, string>
    comments: TaskComment[]
    links: TaskLinkJson[]
    subtasks: Task[]
  }
): TaskJson => ({
  id: t.id,
  conversationId: ctx.conversation?.id ?? null,
  conversationName: ctx.conversation?.name ?? null,
  title: t.title,
  bodyMd: t.description,
  status: t.status,
  blocked: t.blocked,
  progress: t.progress,
  dueAt: t.dueAt,
  position: t.position,
  labels: t.labels,
  assignees: t.assignees,
  assigneeHandles: t.assignees.map((id) => ctx.handles.get(id) ?? id),
  parentId: t.parentId,
  createdBy: t.createdBy,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
  source: t.source,
  commentCount: ctx.comments.length,
  links: ctx.links,
  subtasks: ctx.subtasks.map((s) => ({ id: s.id, title: s.title, status: s.status, assignees: s.assignees })),
  recentComments: ctx.comments.slice(-3).map((c) => taskCommentShape(c, ctx.handles))
})
