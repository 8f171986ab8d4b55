import type * as Y from 'yjs'

/**
 * `me:<memberId>`: one member's private state. Only that member (and the server) can open it.
 *   'conversations': Y.Map convId → ConversationSummary   server-only (the sidebar)
 *   'unread':        Y.Map convId → UnreadCount            server-only
 *   'reads':         Y.Map convId → number                 member: createdAt of the last message read
 *   'mutes':         Y.Map convId → true                   member
 *   'stars':         Y.Map convId → true                   member: shown first in the sidebar
 *   'drafts':        Y.Map convId → string                 member
 *   'boardVisits':   Y.Map convId → number                 member
 *   'seen':          Y.Map view → number                   member: when I last looked at a view (SEEN_VIEWS)
 *   'taskMentions':  Y.Map commentId → TaskMention         server-only: task comments naming me
 *   'threads', 'threadReads': followed threads (me-threads.ts)
 *   'reactionsToMe': others' reactions to my messages, server-only (me-activity.ts)
 */
export interface ConversationSummary {
  id: string
  kind: 'channel' | 'dm'
  name: string
  topic: string
  isPrivate: boolean
  memberIds: string[]
  liveSegment: number
  /** Optional: summaries written before channel details existed lack them. */
  description?: string
  createdBy?: string
  /** Set while the channel is archived (read-only, out of the sidebar). */
  archivedAt?: number | null
  /** Pinned message ids, oldest pin first (at most MAX_PINS). */
  pins?: string[]
}

/** Pins a conversation keeps; pinning one more is refused. */
export const MAX_PINS = 100

export interface UnreadCount {
  count: number
  mentions: number
}

/** Root keys of a `me:` doc that its member may write; every other key is server-only. */
export const memberWritableMeKeys = ['reads', 'mutes', 'stars', 'drafts', 'boardVisits', 'threadReads', 'seen'] as const
export type MemberWritableMeKey = (typeof memberWritableMeKeys)[number]

export const meConversationsOf = (doc: Y.Doc) => doc.getMap<ConversationSummary>('conversations')
export const meUnreadOf = (doc: Y.Doc) => doc.getMap<UnreadCount>('unread')
export const meReadsOf = (doc: Y.Doc) => doc.getMap<number>('reads')
export const meMutesOf = (doc: Y.Doc) => doc.getMap<boolean>('mutes')
export const meStarsOf = (doc: Y.Doc) => doc.getMap<boolean>('stars')
export const meDraftsOf = (doc: Y.Doc) => doc.getMap<string>('drafts')
export const meBoardVisitsOf = (doc: Y.Doc) => doc.getMap<number>('boardVisits')
export const meTaskMentionsOf = (doc: Y.Doc) => doc.getMap<TaskMention>('taskMentions')
export const meSeenOf = (doc: Y.Doc) => doc.getMap<number>('seen')

/** Views whose "new since my last look" mark follows me across browsers: the keys of `seen`. */
export const SEEN_VIEWS = ['activity'] as const
export type SeenView = (typeof SEEN_VIEWS)[number]

/** Marks `view` seen up to `at`; never moves backwards (two browsers may race). */
export function markSeen(doc: Y.Doc, view: SeenView, at: number, origin?: unknown) {
  const cur = meSeenOf(doc).get(view) ?? 0
  if (at > cur) doc.transact(() => meSeenOf(doc).set(view, at), origin)
}

export function putConversation(doc: Y.Doc, summary: ConversationSummary, origin?: unknown) {
  doc.transact(() => meConversationsOf(doc).set(summary.id, summary), origin)
}

export function removeConversation(doc: Y.Doc, id: string, origin?: unknown) {
  doc.transact(() => {
    meConversationsOf(doc).delete(id)
    meUnreadOf(doc).delete(id)
  }, origin)
}

export function setUnread(doc: Y.Doc, id: string, unread: UnreadCount, origin?: unknown) {
  const cur = meUnreadOf(doc).get(id)
  if (cur && cur.count === unread.count && cur.mentions === unread.mentions) return
  doc.transact(() => meUnreadOf(doc).set(id, unread), origin)
}

/** Marks read up to `at`; never moves the marker backwards (two tabs may race). */
export function markRead(doc: Y.Doc, id: string, at: number, origin?: unknown) {
  const cur = meReadsOf(doc).get(id) ?? 0
  if (at > cur) doc.transact(() => meReadsOf(doc).set(id, at), origin)
}

/**
 * A task comment that mentions the member (directly or by @everyone / @channel). Unread while
 * `at` is after their last visit of that board (`boardVisits`), as a message mention is unread
 * after their read marker.
 */
export interface TaskMention {
  taskId: string
  commentId: string
  /** null: the workspace board. */
  conversationId: string | null
  by: string
  at: number
}

/** The newest this many mentions are kept per member; older ones are dropped. */
export const MAX_TASK_MENTIONS = 100

export function noteTaskMention(doc: Y.Doc, mention: TaskMention, origin?: unknown) {
  const map = meTaskMentionsOf(doc)
  doc.transact(() => {
    map.set(mention.commentId, mention)
    if (map.size <= MAX_TASK_MENTIONS) return
    const oldest = [...map.entries()].sort((a, b) => a[1].at - b[1].at).slice(0, map.size - MAX_TASK_MENTIONS)
    for (const [id] of oldest) map.delete(id)
  }, origin)
}
