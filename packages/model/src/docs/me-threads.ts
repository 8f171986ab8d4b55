import type * as Y from 'yjs'

/**
 * Threads in a `me:` doc (alongside me.ts's roots):
 *   'threads':     Y.Map rootId → FollowedThread   server-only: the threads I follow
 *   'threadReads': Y.Map rootId → number           member (OWN11): createdAt of the last reply read
 * The server keeps `threads` from its follow index (agent-gateway services/thread-follows.ts):
 * each reply updates the entry of every follower; unfollowing removes it.
 */
export interface FollowedThread {
  conversationId: string
  /** The newest reply's time, or the follow's when there is none yet. */
  lastReplyAt: number
  lastReplyBy: string | null
}

/** Followed threads a me doc keeps, the newest reply first; older ones drop out of the view. */
export const MAX_FOLLOWED_THREADS = 200

export const meThreadsOf = (doc: Y.Doc) => doc.getMap<FollowedThread>('threads')
export const meThreadReadsOf = (doc: Y.Doc) => doc.getMap<number>('threadReads')

export function putFollowedThread(doc: Y.Doc, rootId: string, thread: FollowedThread, origin?: unknown) {
  const map = meThreadsOf(doc)
  doc.transact(() => {
    map.set(rootId, thread)
    if (map.size <= MAX_FOLLOWED_THREADS) return
    const oldest = [...map.entries()].sort((a, b) => a[1].lastReplyAt - b[1].lastReplyAt).slice(0, map.size - MAX_FOLLOWED_THREADS)
    for (const [id] of oldest) map.delete(id)
  }, origin)
}

/** A thread is news for me when someone else replied after my marker. */
export const threadUnread = (thread: FollowedThread, readAt: number | undefined, me: string) =>
  thread.lastReplyBy !== null && thread.lastReplyBy !== me && thread.lastReplyAt > (readAt ?? 0)

/** Marks a thread read up to `at`; never backwards (two tabs may race). */
export function markThreadRead(doc: Y.Doc, rootId: string, at: number, origin?: unknown) {
  const map = meThreadReadsOf(doc)
  if (at > (map.get(rootId) ?? 0)) doc.transact(() => map.set(rootId, at), origin)
}
