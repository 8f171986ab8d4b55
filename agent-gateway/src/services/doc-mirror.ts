import { eq } from 'drizzle-orm'
import { conversationMembers, conversations, type Db } from '@circlechat/db'
import {
  dirChannelsOf, docName, meConversationsOf, putConversation, putMember, putWorkspace,
  removeChannel, removeConversation, type ConversationSummary
} from '@circlechat/model'
import type { SyncServer } from '@circlechat/sync-server'
import type { MemberRow, WorkspaceRow } from '../auth/principal.js'
import { refreshUnread } from './unread.js'
import { pinnedIdsOf } from './conversation-store.js'
import { fileUrl } from './files.js'

/**
 * Keeps the server-written documents (`dir:<ws>`, `me:<member>`) in step with SQLite, which
 * stays the authority on access. Always called after the SQLite change commits, so a client
 * that sees a channel in its sidebar can already open it.
 */
type Deps = { db: Db; sync: SyncServer }
const origin = (reason: string) => ({ source: 'server', reason }) as const

export async function mirrorWorkspace(d: Deps, ws: WorkspaceRow): Promise<void> {
  const icon = ws.icon ? fileUrl(ws.icon) : null
  await d.sync.transact(docName.dir(ws.id), origin('workspace'), (doc) => putWorkspace(doc, { ...ws, icon }))
}

export async function mirrorMember(d: Deps, m: MemberRow): Promise<void> {
  const entry = {
    id: m.id, kind: m.kind, name: m.name, handle: m.handle, role: m.role,
    avatar: m.avatar, title: m.title, reportsTo: m.reportsTo, deactivated: m.deactivated
  }
  await d.sync.transact(docName.dir(m.workspaceId), origin('member'), (doc) => putMember(doc, entry))
}

function summaryOf(d: Deps, conversationId: string): { summary: ConversationSummary; workspaceId: string } | null {
  const c = d.db.select().from(conversations).where(eq(conversations.id, conversationId)).get()
  if (!c) return null
  const memberIds = d.db
    .select({ id: conversationMembers.memberId })
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, conversationId))
    .all()
    .map((r) => r.id)
  const summary = {
    id: c.id, kind: c.kind, name: c.name, topic: c.topic, isPrivate: c.isPrivate, memberIds, liveSegment: c.liveSegment,
    description: c.description, createdBy: c.createdBy, archivedAt: c.archivedAt, pins: pinnedIdsOf(d.db, c.id)
  }
  return { summary, workspaceId: c.workspaceId }
}

/**
 * Re-publishes a conversation after any change to it or its membership: every member's sidebar
 * entry (`me:` docs, which list member ids).
 * `removed` members lose the entry from their sidebar.
 */
export async function mirrorConversation(d: Deps, conversationId: string, removed: string[] = []): Promise<void> {
  const found = summaryOf(d, conversationId)
  if (!found) return
  const { summary, workspaceId } = found
  for (const memberId of summary.memberIds) {
    const isNew = await d.sync.transact(docName.me(memberId), origin('conversation'), (doc) => {
      const known = meConversationsOf(doc).has(conversationId)
      putConversation(doc, summary)
      return !known
    })
    // Someone who just joined sees the conversation's history as unread at once, not only
    // after the next post.
    if (isNew) await refreshUnread(d, memberId, conversationId)
  }
  for (const memberId of removed) {
    await d.sync.transact(docName.me(memberId), origin('conversation-left'), (doc) => removeConversation(doc, conversationId))
  }
  // The directory lists no channels: every member reads it, guests too, and a guest must not
  // learn which public channels exist (browse is REST, which checks the role). Entries written
  // before are removed as their channel next changes.
  if (summary.kind === 'channel' && dirChannelsOf(await d.sync.getDoc(docName.dir(workspaceId))).has(summary.id)) {
    await d.sync.transact(docName.dir(workspaceId), origin('channel'), (doc) => removeChannel(doc, summary.id))
  }
}
