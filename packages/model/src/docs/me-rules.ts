import type * as Y from 'yjs'
import { isId } from '../ids.js'
import { MAX_BODY_CHARS, MAX_CLOCK_SKEW_MS } from './messages.js'
import { memberWritableMeKeys, SEEN_VIEWS } from './me.js'

/**
 * OWN7 as invariants over a `me:` doc: its member writes only `reads`, `mutes`, `stars`, `drafts`
 * and `boardVisits`, keyed by conversation id, `threadReads` keyed by message id and `seen` keyed
 * by view name (SEEN_VIEWS), with typed and bounded values; everything else is the server's. Shared by the guard (per written value) and the property-based suite (whole docs).
 */
const writable = new Set<string>(memberWritableMeKeys)
const seenViews = new Set<string>(SEEN_VIEWS)

export const isMemberWritableMeRoot = (root: string) => writable.has(root)

/** Why a value the member writes under `root`/`key` is not acceptable, or null. */
export function meValueProblem(root: string, key: string, value: unknown, now: number): string | null {
  if (!writable.has(root)) return `"${root}" is written by the server`
  // OWN12: `seen` holds one time per known view, so a member cannot grow it without bound.
  if (root === 'seen') {
    if (!seenViews.has(key)) return `"seen" is keyed by a view (${SEEN_VIEWS.join(', ')})`
  } else if (root === 'threadReads' ? !isId('message', key) : !isId('conversation', key)) return `"${root}" is keyed by ${root === 'threadReads' ? 'message' : 'conversation'} id`
  const ok =
    root === 'drafts' ? typeof value === 'string' && value.length <= MAX_BODY_CHARS
    : root === 'mutes' || root === 'stars' ? typeof value === 'boolean'
    : typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= now + MAX_CLOCK_SKEW_MS
  return ok ? null : `bad value in "${root}"`
}

export interface MeDocSnapshot {
  serverRoots: Record<string, unknown>
}

export function snapshotMeDoc(doc: Y.Doc): MeDocSnapshot {
  const serverRoots: Record<string, unknown> = {}
  for (const [name, type] of doc.share) if (!writable.has(name)) serverRoots[name] = type.toJSON()
  return { serverRoots }
}

export function meDocViolations(before: MeDocSnapshot, after: Y.Doc, now: number): string[] {
  const out: string[] = []
  for (const [name, type] of after.share) {
    if (!writable.has(name)) {
      const unchanged = name in before.serverRoots
        ? JSON.stringify(type.toJSON()) === JSON.stringify(before.serverRoots[name])
        : type._start === null && type._map.size === 0
      if (!unchanged) out.push(`"${name}" is written by the server`)
      continue
    }
    if (type._start !== null) out.push(`"${name}" holds values by key`)
    for (const [key, item] of type._map) {
      if (item.deleted) continue
      const content = item.content.getContent()
      const problem = meValueProblem(name, key, content[content.length - 1], now)
      if (problem) out.push(problem)
    }
  }
  return out
}
