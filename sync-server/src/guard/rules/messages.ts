import * as Y from 'yjs'
import {
  MESSAGES, META, REACTIONS, MAX_BODY_CHARS, MAX_CLOCK_SKEW_MS, messageFieldOwner, parseReactionKey,
  isValidEmoji, isId, type MessageField
} from '@circlechat/model'
import { rejectReason as R } from '@circlechat/protocol'
import { refuse } from '../verdict.js'
import { plainValue, isNewMap, type Loc, type NodeRef, type UpdateIndex } from '../resolve.js'

export interface MessageRuleContext {
  sender: string
  isAdmin: boolean
  now: number
  /** Thread docs: every message must name this root; conversation docs: none may. */
  threadRoot: string | null
  /** False for a sealed conversation segment older than the one just sealed (OWN9). */
  acceptsNewMessages: boolean
  /** True if a message with this id already exists anywhere. */
  idTaken(id: string): boolean
}

const key = (id: Y.ID) => `${id.client}:${id.clock}`

/**
 * Rules OWN1–OWN6 (packages/model/SPEC.md) for `conv:` and `thread:` docs. Returns how many new
 * messages the update adds, for the per-connection flood limit.
 */
export function checkMessageUpdate(index: UpdateIndex, ctx: MessageRuleContext): number {
  const fresh = new Map<string, { item: Y.Item; fields: Map<string, Y.Item> }>()
  const fieldWrites: Array<{ loc: Loc; item: Y.Item }> = []

  for (const item of index.items) {
    const loc = index.freshLoc(item)
    if (loc.root === META) refuse(R.serverOnlyField, 'meta is written by the server')
    if (loc.root !== MESSAGES) refuse(R.invalidField, `unknown root "${loc.root}"`)
    if (loc.chain.length === 0) {
      if (loc.sub !== null || !isNewMap(item)) refuse(R.invalidField, 'messages holds only message maps')
      fresh.set(key(item.id), { item, fields: new Map() })
    } else {
      fieldWrites.push({ loc, item })
    }
  }
  for (const { loc, item } of fieldWrites) {
    const message = loc.chain[0]!
    const newMessage = message.fresh ? fresh.get(key(message.id)) : undefined
    if (loc.chain.length === 1 && newMessage) {
      if (loc.sub === null) refuse(R.invalidField, 'message fields are map keys')
      newMessage.fields.set(loc.sub!, item)
    } else if (loc.chain.length === 1) {
      checkFieldWrite(message, loc.sub, plainValue(item), ctx)
    } else if (isReactionsMap(loc)) {
      checkReactionWrite(loc.sub, plainValue(item), ctx)
    } else {
      refuse(R.invalidField, 'nothing may be nested there')
    }
  }
  for (const item of index.deletedLiveItems()) {
    const loc = index.liveLoc(item)
    if (loc.root !== MESSAGES) refuse(R.serverOnlyField, `cannot delete from "${loc.root}"`)
    if (loc.chain.length === 0) refuse(R.notAuthor, 'messages are never removed; set deleted instead')
    if (loc.chain.length === 1) checkFieldWrite(loc.chain[0]!, loc.sub, undefined, ctx, true)
    else if (isReactionsMap(loc)) checkReactionWrite(loc.sub, true, ctx)
    else refuse(R.invalidField, 'nothing may be nested there')
  }
  const seen = new Set<string>()
  for (const { fields } of fresh.values()) checkNewMessage(fields, ctx, seen)
  return fresh.size
}

/** The item sits directly in a message's reactions map. */
function isReactionsMap(loc: Loc): boolean {
  const container = loc.chain[1]
  return loc.chain.length === 2 && (container!.live ?? container!.fresh)!.parentSub === REACTIONS
}

function authorOf(message: NodeRef): unknown {
  const type = (message.live!.content as Y.ContentType).type as Y.Map<unknown>
  return type.get('author')
}

function checkFieldWrite(message: NodeRef, field: string | null, value: unknown, ctx: MessageRuleContext, isDelete = false) {
  if (message.fresh) refuse(R.invalidField, 'fields of a new message must be set with it')
  const owner = field !== null && Object.hasOwn(messageFieldOwner, field) ? messageFieldOwner[field as MessageField] : null
  if (owner === null) refuse(R.invalidField, `unknown message field "${field}"`)
  if (owner === 'immutable') refuse(R.immutableField, `"${field}" never changes`)
  if (owner === 'server') refuse(R.serverOnlyField, `"${field}" is written by the server`)
  const isAuthor = authorOf(message) === ctx.sender
  // Moderation: an admin deleting someone's message also empties its body.
  const moderating = field === 'body' && ctx.isAdmin && (isDelete || value === '')
  if (owner === 'author' && !isAuthor && !moderating) refuse(R.notAuthor, `only the author may change "${field}"`)
  if (owner === 'authorOrAdmin' && !isAuthor && !ctx.isAdmin) refuse(R.notAuthor, 'only the author or an admin may delete')
  if (isDelete) return
  const type = (message.live!.content as Y.ContentType).type as Y.Map<unknown>
  if (type.get('deleted') === true && field !== 'body') refuse(R.invalidField, 'the message is deleted')
  validateField(field!, value, ctx)
  if (field === 'body' && type.get('deleted') === true && value !== '') refuse(R.invalidField, 'a deleted message stays empty')
}

function checkReactionWrite(reactionKey: string | null, value: unknown, ctx: MessageRuleContext) {
  const parsed = reactionKey === null ? null : parseReactionKey(reactionKey)
  if (!parsed || !isValidEmoji(parsed.emoji)) refuse(R.invalidField, 'a reaction key is <memberId>|<emoji>')
  if (parsed!.memberId !== ctx.sender) refuse(R.notAuthor, 'members toggle only their own reactions')
  if (value !== true) refuse(R.invalidField, 'a reaction is true')
}

function validateField(field: string, value: unknown, ctx: MessageRuleContext) {
  switch (field) {
    case 'body':
      if (typeof value !== 'string' || value.length > MAX_BODY_CHARS) refuse(R.invalidField, `body is text of at most ${MAX_BODY_CHARS} characters`)
      return
    case 'editedAt':
      if (typeof value !== 'number' || value > ctx.now + MAX_CLOCK_SKEW_MS) refuse(R.invalidField, 'editedAt is a time, not in the future')
      return
    case 'deleted':
      if (value !== true) refuse(R.invalidField, 'deleted can only be set to true')
      return
    case 'mentions':
      if (!Array.isArray(value) || value.length > 100 || !value.every((m) => typeof m === 'string' && m.length <= 64)) refuse(R.invalidField, 'mentions is a list of member ids')
      return
    case 'attachments':
      if (!Array.isArray(value) || value.length > 20 || !value.every((a) => typeof a === 'object' && a !== null && !Array.isArray(a))) refuse(R.invalidField, 'attachments is a list of files')
      return
    default:
      refuse(R.invalidField, `"${field}" cannot be set`)
  }
}

function checkNewMessage(fields: Map<string, Y.Item>, ctx: MessageRuleContext, seen: Set<string>) {
  if (!ctx.acceptsNewMessages) refuse(R.sealed, 'this segment is sealed; post to the live one')
  const value = (k: string) => (fields.has(k) ? plainValue(fields.get(k)!) : undefined)
  const id = value('id')
  if (!isId('message', id)) refuse(R.invalidField, 'a new message needs an id msg_<16 base32 chars>')
  if (seen.has(id as string) || ctx.idTaken(id as string)) refuse(R.immutableField, 'message id already exists')
  seen.add(id as string)
  if (value('author') !== ctx.sender) refuse(R.notAuthor, 'a new message must be authored by the sender')
  const createdAt = value('createdAt')
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt) || createdAt > ctx.now + MAX_CLOCK_SKEW_MS) refuse(R.invalidField, 'createdAt is a time, not in the future')
  validateField('body', value('body'), ctx)
  const reactions = fields.get(REACTIONS)
  if (!reactions || !isNewMap(reactions)) refuse(R.invalidField, 'a new message carries an empty reactions map')
  const parentId = value('parentId')
  if (ctx.threadRoot !== null ? parentId !== ctx.threadRoot : fields.has('parentId')) refuse(R.invalidField, 'parentId must name the thread root, only in thread docs')
  for (const [k, item] of fields) {
    if (k === 'id' || k === 'author' || k === 'createdAt' || k === 'body' || k === REACTIONS || k === 'parentId') continue
    if (k === 'mentions' || k === 'attachments') validateField(k, plainValue(item), ctx)
    else if (k === 'threadCount' || k === 'lastReplyAt' || k === 'card') refuse(R.serverOnlyField, `"${k}" is written by the server`)
    else refuse(R.invalidField, `"${k}" cannot be set on a new message`)
  }
}
