import type { Db } from '@circlechat/db'
import { isId, type DocName } from '@circlechat/model'
import type { Principal } from './types.js'

interface ConvRow {
  workspaceId: string
  liveSegment: number
  archivedAt: number | null
}

export interface Access {
  canWrite: boolean
  /** Why a member cannot write (ACC6: an archived channel is read-only), shown to the client. */
  readOnlyReason?: string
  /** The conversation a conv/thread/board doc belongs to (null: a workspace board). */
  conversationId: string | null
}

/**
 * Who may open which document (SPEC.md ACC1–ACC5), decided from SQLite on every upgrade and
 * re-checked before each write, so a member removed from a channel cannot keep writing.
 */
export class AccessControl {
  #isMember
  #conv
  #threadConv
  #role

  constructor(db: Db) {
    const sqlite = db.$client
    this.#isMember = sqlite.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck()
    this.#conv = sqlite.prepare('SELECT workspace_id AS workspaceId, live_segment AS liveSegment, archived_at AS archivedAt FROM conversations WHERE id = ?')
    this.#threadConv = sqlite.prepare('SELECT conversation_id FROM messages WHERE id = ? AND parent_id IS NULL').pluck()
    this.#role = sqlite.prepare('SELECT role FROM members WHERE id = ?').pluck()
  }

  /** null: the principal may not read the doc at all. */
  check(who: Principal, doc: DocName): Access | null {
    switch (doc.kind) {
      case 'dir':
        return doc.workspaceId === who.workspaceId ? { canWrite: false, conversationId: null } : null
      case 'me':
        return doc.memberId === who.memberId ? { canWrite: true, conversationId: null } : null
      case 'conv': {
        // Segments beyond the live one do not exist yet: only the server opens the next, on seal.
        // Opening one would have the relay create and persist it (any N up to 999,999,999).
        const conv = this.#conv.get(doc.conversationId) as ConvRow | undefined
        if (!conv || doc.segment > conv.liveSegment) return null
        return this.#isMemberOf(who, conv, doc.conversationId) ? this.#memberAccess(doc.conversationId) : null
      }
      case 'board':
        // ACC5: `board:<w>` is the workspace's board of tasks tied to no conversation. Guests
        // see only their channels (ACC7): the role is read now, not as it was at the upgrade.
        if (isId('workspace', doc.conversationId)) {
          return doc.conversationId === who.workspaceId && this.#role.get(who.memberId) !== 'guest' ? { canWrite: true, conversationId: null } : null
        }
        return this.isConversationMember(who, doc.conversationId) ? this.#memberAccess(doc.conversationId) : null
      case 'thread': {
        const conversationId = this.#threadConv.get(doc.rootMessageId) as string | undefined
        return conversationId && this.isConversationMember(who, conversationId) ? this.#memberAccess(conversationId) : null
      }
    }
  }

  isConversationMember(who: Principal, conversationId: string): boolean {
    const conv = this.#conv.get(conversationId) as ConvRow | undefined
    return conv !== undefined && this.#isMemberOf(who, conv, conversationId)
  }

  /** A member writes their conversation's docs unless it is archived (read from SQLite now). */
  #memberAccess(conversationId: string): Access {
    const conv = this.#conv.get(conversationId) as ConvRow | undefined
    return conv?.archivedAt != null
      ? { canWrite: false, conversationId, readOnlyReason: 'this channel is archived; unarchive it to post or react' }
      : { canWrite: true, conversationId }
  }

  #isMemberOf(who: Principal, conv: ConvRow, conversationId: string): boolean {
    return conv.workspaceId === who.workspaceId && this.#isMember.get(conversationId, who.memberId) === 1
  }
}
