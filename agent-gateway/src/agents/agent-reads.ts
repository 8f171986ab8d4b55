import { eq, inArray } from 'drizzle-orm'
import { members, messages } from '@circlechat/db'
import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { notFound } from '../errors.js'
import { listMine, requireReadable } from '../services/conversations.js'
import { memberIdsOf, publicChannels } from '../services/conversation-store.js'
import { messagePage, type PageQuery } from '../services/messages.js'
import { search, type SearchInput } from '../services/search.js'
import { conversationShape, messageRowShape } from '../services/shapes.js'
import { withAbsoluteUrls } from '../services/files.js'
import type { AgentApiMessage } from '@circlechat/protocol'
import type { Attachment } from '@circlechat/model'
import { isGuest } from '../services/guests.js'

/**
 * The reads of the agent REST API, in the shapes agents written for the seed expect: messages name
 * their author (handle, name, kind) and reactors, deleted messages are left out, and the
 * workspace's public channels are readable without joining them (as the seed allowed). Private
 * channels and DMs are read only by their members, checked on every call (requireReadable).
 */

type MessageRow = typeof messages.$inferSelect

const readable = (gw: Gateway, auth: AuthContext, conversationId: string) => requireReadable(gw, auth, conversationId, { publicChannels: true })

/** Shapes rows with one lookup of every author and reactor (deactivated ones keep their names). */
function shapeAll(gw: Gateway, rows: MessageRow[]): AgentApiMessage[] {
  const ids = [...new Set(rows.flatMap((r) => [r.author, ...r.reactions.map((x) => x.memberId)]))]
  const people = ids.length ? gw.db.select({ id: members.id, handle: members.handle, name: members.name, kind: members.kind }).from(members).where(inArray(members.id, ids)).all() : []
  const byId = new Map(people.map((p) => [p.id, p]))
  return rows.map((r) => {
    const author = byId.get(r.author)
    return {
      ...messageRowShape(r),
      memberHandle: author?.handle ?? 'unknown', memberName: author?.name ?? 'Unknown', memberKind: author?.kind ?? 'unknown',
      reactions: r.reactions.map((x) => ({ ...x, memberHandle: byId.get(x.memberId)?.handle ?? 'unknown' })),
      // The index stores what the guard let into the document (packages/model Attachment).
      attachments: withAbsoluteUrls(gw.config.publicBaseUrl, r.attachments as Attachment[])
    }
  })
}

const page = (gw: Gateway, conversationId: string, q: PageQuery) => messagePage(gw, conversationId, q, { liveOnly: true })

export function agentMessages(gw: Gateway, auth: AuthContext, conversationId: string, q: PageQuery) {
  readable(gw, auth, conversationId)
  const { rows, hasMore, nextCursor } = page(gw, conversationId, q)
  return { messages: shapeAll(gw, rows), hasMore, nextCursor }
}

const THREAD_LIMIT = 200

/** `{rootMessageId, messages: [root, ...replies]}` for any message of the thread (seed shape). */
export function agentThread(gw: Gateway, auth: AuthContext, messageId: string) {
  const hit = gw.db.select().from(messages).where(eq(messages.id, messageId)).get()
  const hidden = () => notFound('message_not_found', 'No such message, or you cannot read its conversation.')
  if (!hit) throw hidden()
  try {
    readable(gw, auth, hit.conversationId)
  } catch {
    throw hidden() // the same answer as a missing id: a private message's existence never leaks
  }
  const rootId = hit.parentId ?? hit.id
  const root = hit.parentId ? gw.db.select().from(messages).where(eq(messages.id, rootId)).get() : hit
  // The newest replies when a thread is longer than one page; hasMore says there are older ones.
  const replies = page(gw, hit.conversationId, { parentId: rootId, limit: THREAD_LIMIT })
  const rows = root && !root.deleted ? [root, ...replies.rows] : replies.rows
  return { rootMessageId: rootId, messages: shapeAll(gw, rows), hasMore: replies.hasMore }
}

/** Full-text search (services/search.ts) over what the agent may read: `{matches}`, best first. */
export async function agentSearch(gw: Gateway, auth: AuthContext, input: Omit<SearchInput, 'publicChannels'>) {
  const hits = await search(gw, auth, { ...input, publicChannels: true })
  if (hits.length === 0) return { matches: [] }
  const rows = new Map(gw.db.select().from(messages).where(inArray(messages.id, hits.map((h) => h.messageId))).all().map((r) => [r.id, r]))
  return { matches: shapeAll(gw, hits.map((h) => rows.get(h.messageId)).filter((r) => r !== undefined)) }
}

/** The agent's conversations (`joined: true`) and the workspace's public channels it is not in (`joined: false`). */
export async function agentConversations(gw: Gateway, auth: AuthContext) {
  const mine = await listMine(gw, auth)
  const joined = new Set(mine.map((c) => c.id))
  const others = isGuest(auth) ? [] : publicChannels(gw.db, auth.workspace.id).filter((c) => !joined.has(c.id))
  return [...mine.map((c) => ({ ...c, joined: true })), ...others.map((c) => ({ ...conversationShape(c, memberIdsOf(gw.db, c.id)), joined: false }))]
}
