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
    session: db.select().from(sessions).where(eq(sessions.id, p('id'))).prepare(),
    renewSession: db.update(sessions).set({ expiresAt: sql`${p('expiresAt')}` }).where(eq(sessions.id, p('id'))).prepare(),
    deleteSession: db.delete(sessions).where(eq(sessions.id, p('id'))).prepare(),
    touchSession: db.update(sessions).set({ lastSeenAt: sql`${p('now')}` }).where(eq(sessions.id, p('id'))).prepare(),
    // One workspace per installation: a person has one member row in it.
    person: db
      .select({ user: { id: users.id, email: users.email }, member: members, workspace: workspaces })
      .from(users)
      .innerJoin(members, and(eq(members.userId, users.id), eq(members.deactivated, false)))
      .innerJoin(workspaces, eq(workspaces.id, members.workspaceId))
      .where(eq(users.id, p('userId')))
      .prepare(),
    conversation: db.select().from(conversations).where(eq(conversations.id, p('id'))).prepare(),
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

export const sessionById = (db: Db, id: string) => queries(db).session.get({ id })
export const renewSession = (db: Db, id: string, expiresAt: number) => void queries(db).renewSession.run({ id, expiresAt })
export const deleteSession = (db: Db, id: string) => void queries(db).deleteSession.run({ id })
export const touchSession = (db: Db, id: string, now: number) => void queries(db).touchSession.run({ id, now })

/** The active member (and workspace) of a user, or undefined once deactivated. */
export const personOfUser = (db: Db, userId: string) => queries(db).person.get({ userId })

export const getConversation = (db: Db, id: string): ConversationRow | undefined => queries(db).conversation.get({ id })

export const isConversationMember = (db: Db, conversationId: string, memberId: string): boolean =>
  !!queries(db).isMember.get({ conversationId, memberId })
