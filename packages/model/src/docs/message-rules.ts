import * as Y from 'yjs'
import { isId } from '../ids.js'
import { voiceProblem } from '../files.js'
import {
  MESSAGES, META, REACTIONS, MAX_BODY_CHARS, MAX_CLOCK_SKEW_MS, messageFieldOwner, parseReactionKey, isValidEmoji,
  messagesOf, metaOf
} from './messages.js'

/**
 * The ownership rules of SPEC.md (OWN1–OWN6, OWN9) written as invariants over materialized
 * messages: given a message before and after a member's change, what may differ. The guard
 * decides on the encoded update before it is applied; this checker runs on what the update
 * actually did, in production on the messages it touched (O(update)) and in the property-based
 * suite on whole documents. The value rules are shared, so the two cannot drift apart.
 */

/** Who is writing, when, and where. */
export interface MessageWriteContext {
  sender: string
  isAdmin: boolean
  now: number
  /** When the sender joined the conversation: nobody writes a message dated before that
   *  (less the clock skew we allow either way). */
  joinedAt: number
  /** Thread docs: every message names this root; conversation docs: none may. */
  threadRoot: string | null
}

export const MAX_MENTIONS = 100
export const MAX_ATTACHMENTS = 20
const MAX_SHORT_TEXT = 2048

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0
const isShortText = (v: unknown, max = MAX_SHORT_TEXT): v is string => typeof v === 'string' && v.length <= max

/** One attachment as a message or a task comment carries it (guard rule OWN10 checks it against its upload). */
export function isAttachment(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const a = v as Record<string, unknown>
  const keys = Object.keys(a)
  return keys.length <= 8 && keys.every((k) => ['key', 'name', 'contentType', 'size', 'url', 'width', 'height', 'voice'].includes(k))
    && isShortText(a.key) && isShortText(a.name) && isShortText(a.contentType, 255) && isShortText(a.url) && isTime(a.size)
    && (a.width === undefined || isTime(a.width)) && (a.height === undefined || isTime(a.height))
    && (a.voice === undefined || voiceProblem(a.voice) === null)
}

/** Why an `attachments` value (of a message or a task comment) is not acceptable, or null. */
export const attachmentsProblem = (value: unknown): string | null =>
  Array.isArray(value) && value.length <= MAX_ATTACHMENTS && value.every(isAttachment) ? null : `attachments is a list of at most ${MAX_ATTACHMENTS} files`

/** Why a member-written field value is not acceptable, or null. Server-only fields are never valid. */
export function fieldValueProblem(field: string, value: unknown, ctx: MessageWriteContext): string | null {
  switch (field) {
    case 'id':
    case 'parentId':
      return isId('message', value) ? null : `${field} is msg_<16 base32 chars>`
    case 'author':
      return value === ctx.sender ? null : 'a message is authored by its sender'
    case 'createdAt':
      return isTime(value) && value >= ctx.joinedAt - MAX_CLOCK_SKEW_MS && value <= ctx.now + MAX_CLOCK_SKEW_MS ? null : 'createdAt is a time between joining the conversation and now'
    case 'body':
      return typeof value === 'string' && value.length <= MAX_BODY_CHARS ? null : `body is text of at most ${MAX_BODY_CHARS} characters`
    case 'editedAt':
      return isTime(value) && value <= ctx.now + MAX_CLOCK_SKEW_MS ? null : 'editedAt is a time, not in the future'
    case 'deleted':
      return value === true ? null : 'deleted can only be set to true'
    case 'mentions':
      return Array.isArray(value) && value.length <= MAX_MENTIONS && value.every((m) => isShortText(m, 64)) ? null : `mentions is a list of at most ${MAX_MENTIONS} member ids`
    case 'attachments':
      return attachmentsProblem(value)
    default:
      return `"${field}" cannot be written`
  }
}

/** Why a reaction key/value written by the sender is not acceptable, or null (OWN4). */
export function reactionProblem(key: string, value: unknown, sender: string): string | null {
  const parsed = parseReactionKey(key)
  if (!parsed || !isValidEmoji(parsed.emoji)) return 'a reaction key is <memberId>|<emoji>'
  if (parsed.memberId !== sender) return 'members toggle only their own reactions'
  return value === true || value === undefined ? null : 'a reaction is true'
}

/** A message as plain data, taken before a change so the change can be judged after it. */
export interface MessageSnapshot {
  /** Every key except `reactions`; a nested Y type is recorded as a marker the checker refuses. */
  fields: Record<string, unknown>
  /** Identity of the reactions map (its item id), so a replaced map is seen. */
  reactionsId: string | null
  reactions: Record<string, unknown>
  /** Entries in the map's list part (a Y.Map should have none). */
  listItems: number
}

const NESTED = Symbol('nested Y type')
const itemKey = (item: Y.Item | null) => (item ? `${item.id.client}:${item.id.clock}` : null)

export function snapshotMessage(map: Y.Map<unknown>): MessageSnapshot {
  const fields: Record<string, unknown> = {}
  let reactionsId: string | null = null
  const reactions: Record<string, unknown> = {}
  for (const [k, v] of map.entries()) {
    if (k === REACTIONS && v instanceof Y.Map) {
      reactionsId = itemKey(v._item)
      for (const [rk, rv] of v.entries()) reactions[rk] = rv instanceof Y.AbstractType ? NESTED : rv
    } else {
      fields[k] = v instanceof Y.AbstractType ? NESTED : v
    }
  }
  return { fields, reactionsId, reactions, listItems: map._start === null ? 0 : 1 }
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

/**
 * What is wrong with `after`, the message a member's change left, compared with `before`
 * (null: the change created it). Empty when the change kept every rule.
 */
export function messageViolations(before: MessageSnapshot | null, after: MessageSnapshot, ctx: MessageWriteContext): string[] {
  const out: string[] = []
  const a = after.fields
  const b = before?.fields ?? {}
  const author = before ? b.author : ctx.sender
  const isAuthor = author === ctx.sender
  const changed = (k: string) => !same(a[k], b[k])
  if (after.listItems > 0) out.push('a message map holds keys only')
  for (const [k, v] of Object.entries(a)) {
    if (!Object.hasOwn(messageFieldOwner, k)) out.push(`unknown key "${k}"`)
    if (v === NESTED) out.push(`"${k}" holds a nested type`)
  }
  if (after.reactionsId === null) out.push('a message carries a reactions map')
  if (before) {
    for (const k of ['id', 'author', 'createdAt', 'parentId'] as const) if (changed(k)) out.push(`"${k}" never changes`)
    if (after.reactionsId !== before.reactionsId) out.push('the reactions map never changes')
  } else {
    for (const k of ['id', 'author', 'createdAt'] as const) {
      const problem = fieldValueProblem(k, a[k], ctx)
      if (problem) out.push(problem)
    }
    if (ctx.threadRoot !== null ? a.parentId !== ctx.threadRoot : a.parentId !== undefined) out.push('parentId names the thread root, only in thread docs')
    if (typeof a.body !== 'string') out.push('a new message has a body')
  }
  for (const k of ['threadCount', 'lastReplyAt', 'card'] as const) if (changed(k)) out.push(`"${k}" is written by the server`)
  for (const k of ['body', 'editedAt', 'mentions', 'attachments', 'deleted'] as const) {
    if (a[k] === undefined || a[k] === NESTED) continue
    const problem = fieldValueProblem(k, a[k], ctx)
    if (problem && (changed(k) || !before)) out.push(problem)
  }
  const moderating = ctx.isAdmin && (a.body === undefined || a.body === '')
  if (changed('body') && !isAuthor && !moderating) out.push('only the author changes the body')
  for (const k of ['editedAt', 'mentions', 'attachments'] as const) if (changed(k) && !isAuthor) out.push(`only the author changes "${k}"`)
  if (changed('deleted') && !isAuthor && !ctx.isAdmin) out.push('only the author or an admin deletes')
  if (b.deleted === true && a.deleted !== true) out.push('deleted stays deleted')
  if (a.deleted === true && a.body !== undefined && a.body !== '') out.push('a deleted message stays empty')
  if (b.deleted === true) for (const k of ['editedAt', 'mentions', 'attachments'] as const) if (changed(k)) out.push(`"${k}" of a deleted message never changes`)
  const reactionKeys = new Set([...Object.keys(after.reactions), ...Object.keys(before?.reactions ?? {})])
  for (const k of reactionKeys) {
    const now = after.reactions[k]
    if (now !== undefined && (now !== true || !parseReactionKey(k) || !isValidEmoji(parseReactionKey(k)!.emoji))) out.push(`reaction "${k}" is malformed`)
    if (!same(now, before?.reactions[k]) && parseReactionKey(k)?.memberId !== ctx.sender) out.push('members toggle only their own reactions')
  }
  return out
}

/** A whole conversation or thread doc as plain data (tests; O(doc)). */
export interface MessageDocSnapshot {
  messages: Map<string, MessageSnapshot>
  meta: unknown
}

export function snapshotMessageDoc(doc: Y.Doc): MessageDocSnapshot {
  const messages = new Map<string, MessageSnapshot>()
  for (const m of messagesOf(doc)) if (m instanceof Y.Map) messages.set(itemKey(m._item)!, snapshotMessage(m))
  return { messages, meta: metaOf(doc).toJSON() }
}

/**
 * Doc-level rules on top of `messageViolations`: messages are never removed (OWN5), only maps
 * sit in `messages`, ids are unique, `meta` and every other root are the server's (OWN6), and a
 * segment that no longer takes messages gets none (OWN9).
 */
export function messageDocViolations(before: MessageDocSnapshot, after: Y.Doc, ctx: MessageWriteContext & { acceptsNewMessages: boolean }): string[] {
  const out: string[] = []
  const arr = messagesOf(after)
  if (arr._map.size > 0) out.push('messages holds no keys')
  const ids = new Set<string>()
  const present = new Set<string>()
  for (const m of arr) {
    if (!(m instanceof Y.Map)) {
      out.push('messages holds only message maps')
      continue
    }
    const key = itemKey(m._item)!
    present.add(key)
    const snap = snapshotMessage(m)
    const prev = before.messages.get(key) ?? null
    if (!prev && !ctx.acceptsNewMessages) out.push('this segment takes no new messages')
    out.push(...messageViolations(prev, snap, ctx))
    const id = String(snap.fields.id)
    if (ids.has(id)) out.push(`message id ${id} is not unique`)
    ids.add(id)
  }
  for (const key of before.messages.keys()) if (!present.has(key)) out.push('a message was removed')
  if (!same(metaOf(after).toJSON(), before.meta)) out.push('meta is written by the server')
  for (const [name, type] of after.share) {
    if (name === MESSAGES || name === META) continue
    if (type._start !== null || type._map.size > 0) out.push(`unknown root "${name}"`)
  }
  return out
}
