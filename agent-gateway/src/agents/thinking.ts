import type { SyncServer } from '@circlechat/sync-server'
import type { Db } from '@circlechat/db'
import { docName } from '@circlechat/model'

/**
 * "<agent> is thinking…" rows: which agents are running for which conversation, published as
 * the server's awareness state on the conversation's live segment (never stored).
 */
export class Thinking {
  readonly #active = new Map<string, Map<string, number>>()

  constructor(private readonly db: Db, private readonly sync: SyncServer) {}

  start(conversationId: string, memberId: string) {
    const members = this.#active.get(conversationId) ?? new Map<string, number>()
    members.set(memberId, (members.get(memberId) ?? 0) + 1)
    this.#active.set(conversationId, members)
    this.#publish(conversationId)
  }

  stop(conversationId: string, memberId: string) {
    const members = this.#active.get(conversationId)
    if (!members) return
    const n = (members.get(memberId) ?? 1) - 1
    if (n <= 0) members.delete(memberId)
    else members.set(memberId, n)
    if (members.size === 0) this.#active.delete(conversationId)
    this.#publish(conversationId)
  }

  #publish(conversationId: string) {
    const live = this.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(conversationId) as number | undefined
    if (live === undefined) return
    const thinking = [...(this.#active.get(conversationId)?.keys() ?? [])]
    void this.sync.setServerPresence(docName.conv(conversationId, live), thinking.length ? { thinking } : null)
      .catch((err) => console.error('could not publish thinking state', err))
  }
}
