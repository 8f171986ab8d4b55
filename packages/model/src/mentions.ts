// The broadcast mention keywords and what they mean. A message's stored `mentions` holds member
// ids plus these literal keywords, never the members they stand for: who a broadcast reaches
// changes as people join and leave, and the document must not.

/** `@everyone` and `@channel` notify the whole conversation. The seed has no `@here`. */
export const BROADCAST_MENTIONS: ReadonlySet<string> = new Set(['everyone', 'channel'])

/** Splits handles or stored mentions into broadcast keywords and direct ones. */
export function partitionMentions(mentions: readonly string[]): { broadcast: string[]; direct: string[] } {
  const broadcast: string[] = []
  const direct: string[] = []
  for (const m of mentions) (BROADCAST_MENTIONS.has(m) ? broadcast : direct).push(m)
  return { broadcast, direct }
}

/**
 * Stored mentions as a reader needs them: each broadcast keyword stays, followed by the ids of
 * the conversation members it reaches (everyone but the author), without repeats.
 * `['everyone']` → `['everyone', 'm_a', 'm_b']`.
 */
export function expandMentions(mentions: readonly string[], conversationMembers: readonly string[], author: string): string[] {
  const out = new Set<string>()
  for (const m of mentions) {
    out.add(m)
    if (BROADCAST_MENTIONS.has(m)) for (const id of conversationMembers) if (id !== author) out.add(id)
  }
  return [...out]
}
