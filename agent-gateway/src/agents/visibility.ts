import type { Db } from '@circlechat/db'
import type { AuthContext } from '../auth/principal.js'
import type { AgentRecord } from './store.js'

/**
 * Ids that pin a piece of text to a conversation: the conversation's own, and those of its
 * messages and approvals. Names, topics, member lists and bodies never travel in a packet,
 * reply or payload without their conversation's id beside them, so looking for ids is enough
 * to tell which conversations a run or payload would reveal.
 */
const CONVERSATION_BOUND_ID = /\b(?:c|msg|ap)_[A-Za-z0-9]+/g
/** SQLite's default bound-parameter limit is 32766; stay well below it. */
const CHUNK = 500

/**
 * What one person may see through an agent (docs/decisions.md "Agents"). Built per request:
 * the caller's conversations are read from SQLite when it is made, never cached across
 * requests, so leaving a channel takes effect on the next request.
 */
export class AgentViewer {
  readonly #db: Db
  readonly #auth: AuthContext
  readonly #mine: Set<string>
  readonly #ownerOf = new Map<string, string | null>()

  constructor(db: Db, auth: AuthContext) {
    this.#db = db
    this.#auth = auth
    this.#mine = new Set(db.$client.prepare('SELECT conversation_id FROM conversation_members WHERE member_id = ?').pluck().all(auth.member.id) as string[])
  }

  get memberId(): string {
    return this.#auth.member.id
  }

  get isAdmin(): boolean {
    return this.#auth.member.role === 'admin'
  }

  /** Admins and the agent's manager (reports-to) manage it: configuration, runs, memory. */
  manages(rec: AgentRecord): boolean {
    return rec.member.workspaceId === this.#auth.workspace.id && (this.isAdmin || rec.member.reportsTo === this.#auth.member.id)
  }

  inConversation(conversationId: string | null | undefined): boolean {
    return !!conversationId && this.#mine.has(conversationId)
  }

  /**
   * True when `value` names no conversation the caller is outside of: no conversation id, and
   * no message or approval id whose conversation the caller is not in. Ids that resolve to
   * nothing reveal nothing and pass.
   */
  mayRead(value: unknown): boolean {
    const text = typeof value === 'string' ? value : JSON.stringify(value ?? null)
    const ids = new Set(text.match(CONVERSATION_BOUND_ID) ?? [])
    const unknown = [...ids].filter((id) => !this.#ownerOf.has(id))
    if (unknown.length) this.#resolve(unknown)
    for (const id of ids) {
      const owner = this.#ownerOf.get(id)
      if (owner && !this.#mine.has(owner)) return false
    }
    return true
  }

  #resolve(ids: string[]) {
    const sql = this.#db.$client
    for (const id of ids) this.#ownerOf.set(id, null)
    const byKind: Array<[string, string]> = [
      ['c_', 'SELECT id, id AS conv FROM conversations WHERE id IN'],
      ['msg_', 'SELECT id, conversation_id AS conv FROM messages WHERE id IN'],
      ['ap_', 'SELECT id, conversation_id AS conv FROM approvals WHERE id IN']
    ]
    for (const [prefix, query] of byKind) {
      const some = ids.filter((id) => id.startsWith(prefix))
      for (let i = 0; i < some.length; i += CHUNK) {
        const part = some.slice(i, i + CHUNK)
        const rows = sql.prepare(`${query} (${part.map(() => '?').join(',')})`).all(...part) as Array<{ id: string; conv: string | null }>
        for (const r of rows) this.#ownerOf.set(r.id, r.conv)
      }
    }
  }
}
