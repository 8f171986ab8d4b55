import * as Y from 'yjs'
import {
  MESSAGES, META, REACTIONS, messageFieldOwner, fieldValueProblem, reactionProblem, parseReactionKey, isId, sameVoice,
  type Attachment, type MessageWriteContext
} from '@circlechat/model'
import { rejectReason as R } from '@circlechat/protocol'
import { refuse } from '../verdict.js'
import { plainValue, isNewMap, typeOf, type KeyWrite, type Loc, type NodeRef, type UpdateIndex } from '../resolve.js'
import type { AttachedFile } from '../../message-index.js'

export interface MessageRuleContext extends MessageWriteContext {
  /** False for a sealed conversation segment older than the one just sealed (OWN9). */
  acceptsNewMessages: boolean
  /** True if a message with this id already exists anywhere. */
  idTaken(id: string): boolean
  /** The upload an attachment key names (OWN10); without it, no attachment is accepted. */
  fileOf?(key: string): AttachedFile | undefined
}

export interface MessageCheck {
  newMessages: number
  /** Existing message maps the update changes: the relay snapshots them to re-check after apply. */
  touched: Y.Map<unknown>[]
}

/** Fields a member may set when creating a message (an offline client may edit or delete it
 *  before it ever reaches the server, so the edit fields come along). */
const NEW_MESSAGE_FIELDS = new Set(['id', 'author', 'createdAt', 'body', 'parentId', 'mentions', 'attachments', 'editedAt', 'deleted', REACTIONS])
const REMOVED = Symbol('removed')
const idKey = (id: Y.ID) => `${id.client}:${id.clock}`

interface MessageWrites {
  message: NodeRef
  fields: Map<string, KeyWrite>
  reactions: KeyWrite[]
}

/**
 * Rules OWN1–OWN6 and OWN9 (packages/model/SPEC.md) for `conv:` and `thread:` docs, decided on
 * what Yjs will do with the update (see resolve.ts): every item of a chain of edits is checked,
 * and where an edit may or may not win its key, every outcome must keep the rules.
 */
export function checkMessageUpdate(index: UpdateIndex, ctx: MessageRuleContext): MessageCheck {
  const fresh: Y.Item[] = []
  for (const item of index.items) {
    const loc = index.loc(item)
    checkRoot(loc)
    if (loc.sub !== null) continue
    if (loc.chain.length !== 0 || !isNewMap(item)) refuse(R.invalidField, 'messages holds only message maps')
    if (index.endsDeleted(item)) refuse(R.notAuthor, 'messages are never removed; set deleted instead')
    fresh.push(item)
  }
  for (const item of index.deletedLive) {
    if (item.parentSub !== null) continue
    checkRoot(index.liveLoc(item))
    refuse(R.notAuthor, 'messages are never removed; set deleted instead')
  }

  const byMessage = new Map<string, MessageWrites>()
  for (const w of index.keyWrites()) {
    checkRoot(w.loc)
    if (w.loc.chain.length === 0) refuse(R.invalidField, 'messages holds no keys')
    if (!w.chain) refuse(R.duplicateKey, `"${w.loc.sub}" is written twice at once; only one would win`)
    const message = w.loc.chain[0]!
    let entry = byMessage.get(idKey(message.id))
    if (!entry) byMessage.set(idKey(message.id), (entry = { message, fields: new Map(), reactions: [] }))
    if (w.loc.chain.length === 1) entry.fields.set(w.loc.sub!, w)
    else if (w.loc.chain.length === 2 && isReactionsMap(index, w.loc.chain[1]!)) entry.reactions.push(w)
    else refuse(R.invalidField, 'nothing may be nested there')
  }

  const seen = new Set<string>()
  for (const item of fresh) {
    const entry = byMessage.get(idKey(item.id)) ?? { message: { id: item.id, live: null, fresh: item }, fields: new Map(), reactions: [] }
    checkNewMessage(index, entry, ctx, seen)
  }
  const touched: Y.Map<unknown>[] = []
  for (const entry of byMessage.values()) {
    if (entry.message.fresh) continue
    checkLiveMessage(index, entry, ctx)
    touched.push(typeOf(entry.message) as Y.Map<unknown>)
  }
  return { newMessages: fresh.length, touched }
}

function checkRoot(loc: Loc) {
  if (loc.root === META) refuse(R.serverOnlyField, 'meta is written by the server')
  if (loc.root !== MESSAGES) refuse(R.invalidField, `unknown root "${loc.root}"`)
}

/** The container is a message's `reactions` map. */
function isReactionsMap(index: UpdateIndex, node: NodeRef): boolean {
  return node.live ? node.live.parentSub === REACTIONS : index.loc(node.fresh!).sub === REACTIONS
}

/** The value an item gives its key, or REMOVED if it ends deleted. */
const valueOf = (index: UpdateIndex, item: Y.Item): unknown => (index.endsDeleted(item) ? REMOVED : plainValue(item))

function checkValues(key: string, w: KeyWrite, ctx: MessageRuleContext) {
  for (const item of w.items) {
    if (item.content instanceof Y.ContentDeleted) continue
    const value = plainValue(item)
    const problem = fieldValueProblem(key, value, ctx)
    if (problem) refuse(key === 'author' ? R.notAuthor : R.invalidField, problem)
    if (key === 'attachments') for (const a of value as Attachment[]) checkAttachment(a, ctx)
  }
}

/** OWN10: an attachment names the sender's own upload, as it was recorded (messages and task comments). */
export function checkAttachment(a: Attachment, ctx: Pick<MessageRuleContext, 'sender' | 'fileOf'>) {
  const file = ctx.fileOf?.(a.key)
  if (!file || file.owner !== ctx.sender) return refuse(R.notAuthor, 'attach only files you uploaded')
  if (a.url !== `/files/${a.key}` || a.contentType !== file.contentType || a.size !== file.size) {
    refuse(R.invalidField, 'an attachment carries its upload\'s url, contentType and size')
  }
  if (!sameVoice(a.voice, file.voice)) refuse(R.invalidField, 'a voice attachment carries its upload\'s durationMs and peaks')
}

function checkReactions(writes: KeyWrite[], ctx: MessageWriteContext) {
  for (const w of writes) {
    const key = w.loc.sub!
    const reason = parseReactionKey(key)?.memberId === ctx.sender ? R.invalidField : R.notAuthor
    // A removed reaction (ContentDeleted, or deleted below) is checked as "no value".
    const values = [...w.items.map((i) => (i.content instanceof Y.ContentDeleted ? undefined : plainValue(i) ?? null)), ...(w.mayRemove ? [undefined] : [])]
    for (const v of values) {
      const problem = reactionProblem(key, v, ctx.sender)
      if (problem) refuse(reason, problem)
    }
  }
}

function checkNewMessage(index: UpdateIndex, entry: MessageWrites, ctx: MessageRuleContext, seen: Set<string>) {
  if (!ctx.acceptsNewMessages) refuse(R.sealed, 'this segment is sealed; post to the live one')
  const final = new Map<string, unknown>()
  for (const [key, w] of entry.fields) {
    if (messageFieldOwner[key as keyof typeof messageFieldOwner] === 'server') refuse(R.serverOnlyField, `"${key}" is written by the server`)
    if (!NEW_MESSAGE_FIELDS.has(key)) refuse(R.invalidField, `"${key}" cannot be set on a new message`)
    if (key === REACTIONS) {
      const item = w.items[0]!
      if (w.items.length !== 1 || !isNewMap(item) || index.endsDeleted(item)) refuse(R.invalidField, 'a new message carries one reactions map')
      final.set(key, item)
      continue
    }
    checkValues(key, w, ctx)
    final.set(key, valueOf(index, w.items[w.items.length - 1]!))
  }
  const value = (k: string) => (final.get(k) === REMOVED ? undefined : final.get(k))
  const id = value('id')
  if (!isId('message', id)) refuse(R.invalidField, 'a new message needs an id msg_<16 base32 chars>')
  if (seen.has(id as string) || ctx.idTaken(id as string)) refuse(R.immutableField, 'message id already exists')
  seen.add(id as string)
  if (value('author') !== ctx.sender) refuse(R.notAuthor, 'a new message must be authored by the sender')
  for (const k of ['createdAt', 'body'] as const) {
    const problem = fieldValueProblem(k, value(k), ctx)
    if (problem) refuse(R.invalidField, problem)
  }
  if (!value(REACTIONS)) refuse(R.invalidField, 'a new message carries an empty reactions map')
  if (ctx.threadRoot !== null ? value('parentId') !== ctx.threadRoot : final.has('parentId')) refuse(R.invalidField, 'parentId must name the thread root, only in thread docs')
  if (value('deleted') === true && value('body') !== '') refuse(R.invalidField, 'a deleted message stays empty')
  checkReactions(entry.reactions, ctx)
}

function checkLiveMessage(index: UpdateIndex, entry: MessageWrites, ctx: MessageRuleContext) {
  const type = typeOf(entry.message) as Y.Map<unknown>
  const isAuthor = type.get('author') === ctx.sender
  const liveDeleted = type.get('deleted') === true
  /** Every value a key may hold once the update is applied. */
  const ends = (key: string): unknown[] => {
    const w = entry.fields.get(key)
    const current = type.has(key) ? type.get(key) : REMOVED
    if (!w) return [current]
    if (w.certain) return [valueOf(index, w.items[w.items.length - 1]!)]
    const out = w.items.filter((i) => !index.endsDeleted(i)).map(plainValue)
    if (w.liveDeletes.length === 0) out.push(current)
    if (w.mayRemove || current === REMOVED) out.push(REMOVED)
    return out
  }
  for (const [key, w] of entry.fields) {
    const owner = Object.hasOwn(messageFieldOwner, key) ? messageFieldOwner[key as keyof typeof messageFieldOwner] : null
    if (owner === null) refuse(R.invalidField, `unknown message field "${key}"`)
    if (owner === 'immutable') refuse(R.immutableField, `"${key}" never changes`)
    if (owner === 'server') refuse(R.serverOnlyField, `"${key}" is written by the server`)
    checkValues(key, w, ctx)
    if (owner === 'authorOrAdmin') {
      if (!isAuthor && !ctx.isAdmin) refuse(R.notAuthor, 'only the author or an admin may delete')
      if (w.mayRemove) refuse(R.invalidField, 'deleted stays deleted')
      continue
    }
    // Moderation: an admin may empty someone's body, nothing else.
    const moderating = key === 'body' && ctx.isAdmin && ends('body').every((v) => v === '' || v === REMOVED)
    if (!isAuthor && !moderating) refuse(R.notAuthor, `only the author may change "${key}"`)
    if (liveDeleted && key !== 'body') refuse(R.invalidField, 'the message is deleted')
  }
  const mayBeDeleted = liveDeleted || ends('deleted').includes(true)
  if (mayBeDeleted && !ends('body').every((v) => v === '' || v === REMOVED)) refuse(R.invalidField, 'a deleted message stays empty')
  checkReactions(entry.reactions, ctx)
}
