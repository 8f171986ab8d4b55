import { and, eq, sql } from 'drizzle-orm'
import { conversationMembers, conversations, members, sessions, users, workspaces, type Db } from '@circlechat/db'
import type { ConversationRow } from './shapes.js'

/**
 * The SQL nearly every request runs (its session, the person behind it, the conversation it
 * names and the caller's membership), built and compiled once per database with placeholders
 * rather than rebuilt by drizzle and re-prepared by SQLite on each call. SQLite-specific in one
 * place: another store replaces this module, not its callers.
 */
function build(db: Db) {
  const p = sql.placeholder
  return {
    // The session and the person behind it in one read (left joins: an expired session is
    // still found, to be deleted; a deactivated member's session finds no person). One
    // workspace per installation: a person has one member row in it.
    session: db
      .select({ session: sessions, user: { id: users.id, email: users.email }, member: members, workspace: workspaces })
      .from(sessions)
      .leftJoin(users, eq(users.id, sessions.userId))
      .leftJoin(members, and(eq(members.userId, sessions.userId), eq(members.deactivated, false)))
      .leftJoin(workspaces, eq(workspaces.id, members.workspaceId))
      .where(eq(sessions.id, p('id')))
      .prepare(),
    renewSession: db.update(sessions).set({ expiresAt: sql`${p('expiresAt')}` }).where(eq(sessions.id, p('id'))).prepare(),
    deleteSession: db.delete(sessions).where(eq(sessions.id, p('id'))).prepare(),
    touchSession: db.update(sessions).set({ lastSeenAt: sql`${p('now')}` }).where(eq(sessions.id, p('id'))).prepare(),
    conversation: db.select().from(conversations).where(eq(conversations.id, p('id'))).prepare(),
    conversationFor: db
      .select({
        conversation: conversations,
        member: sql<number>`EXISTS (SELECT 1 FROM ${conversationMembers} WHERE ${conversationMembers.conversationId} = ${conversations.id} AND ${conversationMembers.memberId} = ${p('memberId')})`
      })
      .from(conversations)
      .where(eq(conversations.id, p('id')))
      .prepare(),
    isMember: db
      .select({ one: sql`1` })
      .from(conversationMembers)
      .where(and(eq(conversationMembers.conversationId, p('conversationId')), eq(conversationMembers.memberId, p('memberId'))))
      .prepare()
  }
}

// Per database, not a module singleton: several servers in one process never share statements.
const cache = new WeakMap<Db, ReturnType<typeof build>>()

function queries(db: Db) {
  let q = cache.get(db)
  if (!q) cache.set(db, (q = build(db)))
  return q
}

/** A session row and its person (null when the user has no active member), or undefined. */
export function sessionById(db: Db, id: string) {
  const row = queries(db).session.get({ id })
  if (!row) return undefined
  const { session, user, member, workspace } = row
  return { session, person: user && member && workspace ? { user, member, workspace } : null }
}
export const renewSession = (db: Db, id: string, expiresAt: number) => void queries(db).renewSession.run({ id, expiresAt })
export const deleteSession = (db: Db, id: string) => void queries(db).deleteSession.run({ id })
export const touchSession = (db: Db, id: string, now: number) => void queries(db).touchSession.run({ id, now })

export const getConversation = (db: Db, id: string): ConversationRow | undefined => queries(db).conversation.get({ id })

/** A conversation and whether `memberId` is in it, in one read. */
export function conversationFor(db: Db, id: string, memberId: string): { conversation: ConversationRow; member: boolean } | undefined {
  const row = queries(db).conversationFor.get({ id, memberId })
  return row && { conversation: row.conversation, member: row.member === 1 }
}

export const isConversationMember = (db: Db, conversationId: string, memberId: string): boolean =>
  !!queries(db).isMember.get({ conversationId, memberId })
