import { and, eq } from 'drizzle-orm'
import { members, users, type Db } from '@circlechat/db'
import { BROADCAST_MENTIONS, newId } from '@circlechat/model'
import type { MemberRow } from '../auth/principal.js'
import { conflict } from '../errors.js'

/** A transaction handle or the db itself: both run the same queries. */
export type Tx = Pick<Db, 'select' | 'insert' | 'update' | 'delete'>

export interface NewAccount {
  email: string
  passwordHash: string
  name: string
  handle: string
  workspaceId: string
  role: 'admin' | 'member' | 'guest'
}

/** Inserts a person and their member row; call inside a transaction so both land or neither. */
export function insertAccount(tx: Tx, a: NewAccount, now = Date.now()): { user: { id: string; email: string }; member: MemberRow } {
  if (tx.select({ id: users.id }).from(users).where(eq(users.email, a.email)).get()) {
    throw conflict('email_taken', 'An account with this email already exists; sign in instead.')
  }
  assertHandleFree(tx, a.workspaceId, a.handle)
  const user = { id: newId('user'), email: a.email }
  tx.insert(users).values({ ...user, passwordHash: a.passwordHash, createdAt: now }).run()
  const member: MemberRow = {
    id: newId('member'), workspaceId: a.workspaceId, userId: user.id, kind: 'user', name: a.name, handle: a.handle,
    role: a.role, avatar: null, title: null, reportsTo: null, deactivated: false, createdAt: now
  }
  tx.insert(members).values(member).run()
  return { user, member }
}

export function assertHandleFree(tx: Tx, workspaceId: string, handle: string): void {
  const taken = tx.select({ id: members.id }).from(members).where(and(eq(members.workspaceId, workspaceId), eq(members.handle, handle))).get()
  // 'everyone' and 'channel' are mention keywords; a member with that handle could never be mentioned alone.
  if (taken || BROADCAST_MENTIONS.has(handle)) throw conflict('handle_taken', `@${handle} is taken; pick another handle.`)
}
