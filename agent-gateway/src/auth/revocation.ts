import type { SyncServer } from '@circlechat/sync-server'

/** Something that stopped granting access: the sockets it opened must close at once. */
export type Revocation =
  /** A session ended (logout) or a bot token was replaced (rotation). */
  | { kind: 'credential'; credentialId: string }
  /** A member was deactivated: every credential of theirs. */
  | { kind: 'member'; memberId: string }
  /** A member left or was removed from a conversation. */
  | { kind: 'conversation'; memberId: string; conversationId: string }

/**
 * The one place a revocation is announced. Sockets are authorised when they open, so whoever
 * changes SQLite so that access ends (logout, rotation, deactivation, leave) calls this right
 * after, in the same turn: the relay closes its sync sockets, and listeners (the agent socket hub)
 * close theirs. Expiry needs no call: the relay closes a socket when its credential expires.
 */
export class Revocations {
  readonly #listeners = new Set<(r: Revocation) => void>()

  constructor(private readonly sync: Pick<SyncServer, 'revokeCredential' | 'revokeMember' | 'revokeConversation' | 'reauthorizeMember'>) {}

  credential(credentialId: string): void {
    this.sync.revokeCredential(credentialId)
    this.#emit({ kind: 'credential', credentialId })
  }

  member(memberId: string): void {
    this.sync.revokeMember(memberId)
    this.#emit({ kind: 'member', memberId })
  }

  /**
   * A member's role changed: their sync sockets reconnect under the new role (an admin demoted
   * loses moderation, a new guest the workspace board), their agent socket is left open.
   */
  role(memberId: string): void {
    this.sync.reauthorizeMember(memberId)
  }

  conversation(memberId: string, conversationId: string): void {
    this.sync.revokeConversation(memberId, conversationId)
    this.#emit({ kind: 'conversation', memberId, conversationId })
  }

  /** Subscribes to every revocation; returns an unsubscribe. */
  onRevoke(listener: (r: Revocation) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(r: Revocation) {
    for (const listener of this.#listeners) {
      try {
        listener(r)
      } catch (err) {
        console.error('revocation listener failed', err)
      }
    }
  }
}
