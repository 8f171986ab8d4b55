import { isId, type DocName } from '@circlechat/model'
import { mapGot, settled, type AccessRows, type ConversationAccess, type Got } from './persistence/rows.js'
import type { Principal } from './types.js'

export interface Access {
  canWrite: boolean
  /** Why a member cannot write (ACC6: an archived channel is read-only), shown to the client. */
  readOnlyReason?: string
  /** The conversation a conv/thread/board doc belongs to (null: a workspace board). */
  conversationId: string | null
}

/**
 * Who may open which document (SPEC.md ACC1–ACC5), decided from the database on every upgrade
 * and re-checked before each write, so a member removed from a channel cannot keep writing.
 */
export class AccessControl<A extends boolean> {
  readonly #rows: AccessRows<A>

  constructor(rows: AccessRows<A>) {
    this.#rows = rows
  }

  /** null: the principal may not read the doc at all. */
  check(who: Principal, doc: DocName): Got<Access | null, A> {
    const now = (access: Access | null) => settled(this.#rows.async, access)
    switch (doc.kind) {
      case 'dir':
        return now(doc.workspaceId === who.workspaceId ? { canWrite: false, conversationId: null } : null)
      case 'me':
        return now(doc.memberId === who.memberId ? { canWrite: true, conversationId: null } : null)
      case 'conv':
        // Segments beyond the live one do not exist yet: only the server opens the next, on seal.
        // Opening one would have the relay create and persist it (any N up to 999,999,999).
        return mapGot(this.#rows.conversation(doc.conversationId, who.memberId), (conv) =>
          conv && doc.segment <= conv.liveSegment ? memberAccess(who, doc.conversationId, conv) : null)
      case 'board':
        // ACC5: `board:<w>` is the workspace's board of tasks tied to no conversation. Guests
        // see only their channels (ACC7): the role is read now, not as it was at the upgrade.
        if (isId('workspace', doc.conversationId)) {
          const workspaceId = doc.conversationId
          return mapGot(this.#rows.role(who.memberId), (role) => workspaceId === who.workspaceId && role !== 'guest' ? { canWrite: true, conversationId: null } : null)
        }
        return this.#inConversation(who, doc.conversationId)
      case 'thread':
        return mapGot(this.#rows.threadConversation(doc.rootMessageId), (conversationId) => conversationId ? this.#inConversation(who, conversationId) : now(null))
    }
  }

  /** The conversation's row with the member's (joinedAt), read now; undefined: no such conversation. */
  conversation(conversationId: string, memberId: string): Got<ConversationAccess | undefined, A> {
    return this.#rows.conversation(conversationId, memberId)
  }

  #inConversation(who: Principal, conversationId: string): Got<Access | null, A> {
    return mapGot(this.#rows.conversation(conversationId, who.memberId), (conv) => (conv ? memberAccess(who, conversationId, conv) : null))
  }
}

/** A member writes their conversation's docs unless it is archived (read from the database now). */
function memberAccess(who: Principal, conversationId: string, conv: ConversationAccess): Access | null {
  if (conv.workspaceId !== who.workspaceId || conv.joinedAt === null) return null
  return conv.archivedAt != null
    ? { canWrite: false, conversationId, readOnlyReason: 'this channel is archived; unarchive it to post or react' }
    : { canWrite: true, conversationId }
}
