import type { Db } from '@circlechat/db'
import { forbidden } from '../errors.js'
import type { Actor } from './conversations.js'

/**
 * What a guest may not do (docs/decisions.md "Admin settings"). A guest reads and writes only
 * the channels (and DMs) they were added to: no public channel they are not in, no workspace
 * board, no channel or invite of their own, and DMs only with people they share a channel with.
 * The role comes from the request's member row, read from SQLite per request.
 */
export const isGuest = (actor: Actor) => actor.member.role === 'guest'

export function refuseGuest(actor: Actor, what: string): void {
  if (isGuest(actor)) throw forbidden('guest_forbidden', `Guests cannot ${what}; ask a member of the workspace.`)
}

/**
 * The scope id of the workspace board if the actor may use it, else null: SQL written as
 * `t.board = @workspaceBoard` then matches nothing for a guest.
 */
export const workspaceBoardOf = (actor: Actor): string | null => (isGuest(actor) ? null : actor.workspace.id)

/** Of `ids`, those who share no channel with the guest `memberId` (a DM the guest may not open). */
export function strangersOf(db: Db, memberId: string, ids: string[]): string[] {
  const shared = db.$client.prepare(`SELECT 1 FROM conversation_members a
    JOIN conversation_members b ON b.conversation_id = a.conversation_id
    JOIN conversations c ON c.id = a.conversation_id AND c.kind = 'channel'
    WHERE a.member_id = ? AND b.member_id = ? LIMIT 1`).pluck()
  return ids.filter((id) => id !== memberId && shared.get(memberId, id) !== 1)
}

/** Of `ids`, the guests: they cannot be assigned tasks on the workspace board they cannot see. */
export function guestIds(db: Db, ids: string[]): Set<string> {
  if (!ids.length) return new Set()
  const rows = db.$client.prepare(`SELECT id FROM members WHERE role = 'guest' AND id IN (SELECT value FROM json_each(?))`).pluck().all(JSON.stringify(ids)) as string[]
  return new Set(rows)
}
