import type { conversations, messages, users } from '@circlechat/db'
import type { Message, MessageCard } from '@circlechat/model'
import type { MemberRow, WorkspaceRow } from '../auth/principal.js'

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

export const workspaceShape = (w: WorkspaceRow) => ({ id: w.id, name: w.name, handle: w.handle })

export type ConversationRow = typeof conversations.$inferSelect

export const conversationShape = (c: ConversationRow, memberIds: string[], unread = { count: 0, mentions: 0 }) => ({
  id: c.id,
  kind: c.kind,
  name: c.name,
  topic: c.topic,
  isPrivate: c.isPrivate,
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
