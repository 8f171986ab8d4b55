import { and, eq, inArray, sql } from 'drizzle-orm'
import { conversationMembers, conversations, members, pins } from '@circlechat/db'
import { newId } from '@circlechat/model'
import type { Tx } from './accounts.js'
import type { ConversationRow } from './shapes.js'

/** SQLite reads and writes for conversations and their membership; no access rules here. */

export interface NewConversation {
  workspaceId: string
  kind: 'channel' | 'dm'
  name: string
  topic: string
  isPrivate: boolean
  createdBy: string
  memberIds: string[]
  dmKey: string | null
}

export function insertConversation(tx: Tx, c: NewConversation, now = Date.now()): ConversationRow {
  const row: ConversationRow = {
    id: newId('conversation'), workspaceId: c.workspaceId, kind: c.kind, name: c.name, topic: c.topic, description: '',
    isPrivate: c.isPrivate, createdBy: c.createdBy, createdAt: now, liveSegment: 0, dmKey: c.dmKey, archivedAt: null
  }
  tx.insert(conversations).values(row).run()
  addConversationMembers(tx, row.id, c.memberIds, now)
  return row
}

export function memberIdsOf(tx: Tx, conversationId: string): string[] {
  return tx
    .select({ id: conversationMembers.memberId })
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, conversationId))
    .orderBy(conversationMembers.joinedAt, conversationMembers.memberId)
    .all()
    .map((r) => r.id)
}

/** Adds members, skipping those already in; returns the ids actually added. */
export function addConversationMembers(tx: Tx, conversationId: string, memberIds: string[], now = Date.now()): string[] {
  const added: string[] = []
  for (const memberId of new Set(memberIds)) {
    const r = tx.insert(conversationMembers).values({ conversationId, memberId, joinedAt: now }).onConflictDoNothing().run()
    if (r.changes > 0) added.push(memberId)
  }
  return added
}

export function removeConversationMember(tx: Tx, conversationId: string, memberId: string): boolean {
  const r = tx
    .delete(conversationMembers)
    .where(and(eq(conversationMembers.conversationId, conversationId), eq(conversationMembers.memberId, memberId)))
    .run()
  return r.changes > 0
}

export function findChannelByName(tx: Tx, workspaceId: string, name: string): ConversationRow | undefined {
  return tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.kind, 'channel'), eq(conversations.name, name)))
    .get()
}

export function findDm(tx: Tx, workspaceId: string, dmKey: string): ConversationRow | undefined {
  return tx.select().from(conversations).where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.dmKey, dmKey))).get()
}

export function conversationsOfMember(tx: Tx, memberId: string): ConversationRow[] {
  return tx
    .select({ c: conversations })
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(eq(conversationMembers.memberId, memberId))
    .orderBy(conversations.kind, conversations.name, conversations.createdAt)
    .all()
    .map((r) => r.c)
}

export function publicChannels(tx: Tx, workspaceId: string): Array<ConversationRow & { memberCount: number }> {
  return tx
    .select({ c: conversations, memberCount: sql<number>`(select count(*) from conversation_members cm where cm.conversation_id = ${conversations.id})` })
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.kind, 'channel'), eq(conversations.isPrivate, false)))
    .orderBy(conversations.name)
    .all()
    .map((r) => ({ ...r.c, memberCount: Number(r.memberCount) }))
}

/** Ids among `ids` that are active members of the workspace. */
export function activeMemberIds(tx: Tx, workspaceId: string, ids: string[]): Set<string> {
  if (ids.length === 0) return new Set()
  const rows = tx
    .select({ id: members.id })
    .from(members)
    .where(and(eq(members.workspaceId, workspaceId), inArray(members.id, ids), eq(members.deactivated, false)))
    .all()
  return new Set(rows.map((r) => r.id))
}

/** Pinned message ids of a conversation, oldest pin first. */
export function pinnedIdsOf(tx: Tx, conversationId: string): string[] {
  return tx
    .select({ id: pins.messageId })
    .from(pins)
    .where(eq(pins.conversationId, conversationId))
    .orderBy(pins.pinnedAt, pins.messageId)
    .all()
    .map((r) => r.id)
}
