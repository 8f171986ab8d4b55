import { and, eq, inArray } from 'drizzle-orm'
import { conversationMembers, conversations, members } from '@circlechat/db'
import { docName, noteTaskMention, partitionMentions, type TaskMention } from '@circlechat/model'
import type { Gateway } from '../deps.js'

const ORIGIN = { source: 'server', reason: 'task mention' } as const

/**
 * Tells the people a task comment mentions, as a message mention does: an entry in each one's
 * `me:` doc (`taskMentions`), unread until they next visit the board. Only people who can read
 * the board are told (the conversation's members, or the workspace's for its board), never the
 * author; agents learn of comments from their own triggers.
 */
export async function notifyTaskMentions(
  gw: Pick<Gateway, 'db' | 'sync'>,
  board: { workspaceId: string; conversationId: string | null },
  mention: Omit<TaskMention, 'conversationId'>,
  mentions: string[]
): Promise<void> {
  if (mentions.length === 0) return
  const { broadcast, direct } = partitionMentions(mentions)
  const where = [eq(members.workspaceId, board.workspaceId), eq(members.kind, 'user'), eq(members.deactivated, false)]
  if (broadcast.length === 0) where.push(inArray(members.id, direct))
  const people = board.conversationId
    ? gw.db.select({ id: members.id }).from(members)
        .innerJoin(conversationMembers, and(eq(conversationMembers.memberId, members.id), eq(conversationMembers.conversationId, board.conversationId)))
        .where(and(...where)).all()
    : gw.db.select({ id: members.id }).from(members).where(and(...where)).all()
  for (const { id } of people) {
    if (id === mention.by) continue
    await gw.sync.transact(docName.me(id), ORIGIN, (doc) => noteTaskMention(doc, { ...mention, conversationId: board.conversationId }))
  }
}

/**
 * The same for a comment that reached a board by any door — REST, the web app's own edit of the
 * board doc, a peer agent — as the board feed reports it. `board` is the doc's scope id: a
 * conversation, or the workspace for its own board.
 */
export async function notifyBoardCommentMentions(
  gw: Pick<Gateway, 'db' | 'sync'>,
  board: string,
  mention: Omit<TaskMention, 'conversationId'>,
  mentions: string[]
): Promise<void> {
  if (mentions.length === 0) return
  const conversation = gw.db.select({ workspaceId: conversations.workspaceId }).from(conversations).where(eq(conversations.id, board)).get()
  await notifyTaskMentions(gw, conversation ? { workspaceId: conversation.workspaceId, conversationId: board } : { workspaceId: board, conversationId: null }, mention, mentions)
}
