import type { Db } from '@circlechat/db'
import type { DocName } from '@circlechat/model'
import type { Principal } from './types.js'

export interface Access {
  canWrite: boolean
  /** The conversation a conv/thread/board doc belongs to. */
  conversationId: string | null
}

/**
 * Who may open which document (SPEC.md ACC1–ACC4), decided from SQLite on every upgrade and
 * re-checked before each write, so a member removed from a channel cannot keep writing.
 */
export class AccessControl {
  #isMember
  #convWorkspace
  #threadConv

  constructor(db: Db) {
    const sqlite = db.$client
    this.#isMember = sqlite.prepare('SELECT 1 FROM conversation_members WHERE conversation_id = ? AND member_id = ?').pluck()
    this.#convWorkspace = sqlite.prepare('SELECT workspace_id FROM conversations WHERE id = ?').pluck()
    this.#threadConv = sqlite.prepare('SELECT conversation_id FROM messages WHERE id = ? AND parent_id IS NULL').pluck()
  }

  /** null: the principal may not read the doc at all. */
  check(who: Principal, doc: DocName): Access | null {
    switch (doc.kind) {
      case 'dir':
        return doc.workspaceId === who.workspaceId ? { canWrite: false, conversationId: null } : null
      case 'me':
        return doc.memberId === who.memberId ? { canWrite: true, conversationId: null } : null
      case 'conv':
      case 'board':
        return this.isConversationMember(who, doc.conversationId) ? { canWrite: doc.kind === 'conv', conversationId: doc.conversationId } : null
      case 'thread': {
        const conversationId = this.#threadConv.get(doc.rootMessageId) as string | undefined
        return conversationId && this.isConversationMember(who, conversationId) ? { canWrite: true, conversationId } : null
      }
    }
  }

  isConversationMember(who: Principal, conversationId: string): boolean {
    return this.#convWorkspace.get(conversationId) === who.workspaceId && this.#isMember.get(conversationId, who.memberId) === 1
  }
}
