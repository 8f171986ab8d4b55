import type * as Y from 'yjs'

/**
 * `me:` doc root 'reactionsToMe': Y.Map `<messageId>|<memberId>|<emoji>` → ReactionToMe,
 * server-only: when someone reacted to one of my messages (a reaction holds no time of its own),
 * for the Mentions & reactions view. An entry outlives a removed reaction; readers keep only
 * those the message still has.
 */
export interface ReactionToMe {
  messageId: string
  conversationId: string
  by: string
  emoji: string
  at: number
}

/** The newest this many are kept per member. */
export const MAX_REACTIONS_TO_ME = 100

export const meReactionsToMeOf = (doc: Y.Doc) => doc.getMap<ReactionToMe>('reactionsToMe')

/** Notes the reactions not seen before; returns whether any was new. */
export function noteReactionsToMe(doc: Y.Doc, reactions: ReactionToMe[], origin?: unknown): boolean {
  const map = meReactionsToMeOf(doc)
  const fresh = reactions.filter((r) => !map.has(`${r.messageId}|${r.by}|${r.emoji}`))
  if (fresh.length === 0) return false
  doc.transact(() => {
    for (const r of fresh) map.set(`${r.messageId}|${r.by}|${r.emoji}`, r)
    if (map.size <= MAX_REACTIONS_TO_ME) return
    const oldest = [...map.entries()].sort((a, b) => a[1].at - b[1].at).slice(0, map.size - MAX_REACTIONS_TO_ME)
    for (const [key] of oldest) map.delete(key)
  }, origin)
  return true
}
