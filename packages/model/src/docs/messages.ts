import * as Y from 'yjs'
import { newId } from '../ids.js'
import type { VoiceInfo } from '../files.js'

/**
 * Message layout, shared by conversation segments (`conv:`) and threads (`thread:`).
 *
 *   root 'messages': Y.Array<Y.Map>   one Y.Map per message, appended in send order
 *   root 'meta':     Y.Map            server-only: conversationId, segment, sealed, rootMessageId
 *
 * A message Y.Map holds plain values under these keys, plus one nested Y.Map 'reactions'
 * created with the message. Reactions are flat keys `<memberId>|<emoji>` → true, not
 * emoji → Y.Map(member → true): two members adding the first 👍 at once would each create a
 * nested map under the same key and one map (with its reaction) would be lost. A flat key is
 * written only by the member it names, so concurrent reactions never conflict.
 */
export const MESSAGES = 'messages'
export const META = 'meta'
export const REACTIONS = 'reactions'

export interface Attachment {
  key: string
  name: string
  contentType: string
  size: number
  /** `/files/<key>` (guard rule OWN10). */
  url: string
  /** Images: the size as displayed, so a list can reserve the space before the thumbnail loads. */
  width?: number
  height?: number
  /** A voice message: its length and waveform, as recorded on its upload (OWN10). */
  voice?: VoiceInfo
}

export interface Reaction {
  emoji: string
  memberId: string
}

/** A server-rendered card attached to a message (an agent's approval request, a mail's header). */
export type MessageCard = ApprovalMessageCard | EmailMessageCard

export interface ApprovalMessageCard {
  kind: 'approval'
  approvalId: string
  /** Set by the server when the request is decided, so every open view updates live. */
  status?: 'pending' | 'approved' | 'denied'
}

/** A mail posted by a channel's Email member: its envelope, shown above the body. */
export interface EmailMessageCard {
  kind: 'email'
  /** The From header's address and display name (as the sender wrote them: see `auth`). */
  from: string
  fromName: string
  subject: string
  /** SPF/DKIM/DMARC verdicts from the receiving host's Authentication-Results, when it added one. */
  auth?: { spf?: string; dkim?: string; dmarc?: string }
}

export interface Message {
  id: string
  author: string
  createdAt: number
  body: string
  editedAt: number | null
  deleted: boolean
  mentions: string[]
  attachments: Attachment[]
  parentId: string | null
  reactions: Reaction[]
  threadCount: number
  lastReplyAt: number | null
  card: MessageCard | null
}

/** Who may write each key of a message map once it exists (SPEC.md OWN2–OWN5). */
export const messageFieldOwner = {
  id: 'immutable',
  author: 'immutable',
  createdAt: 'immutable',
  parentId: 'immutable',
  reactions: 'immutable',
  body: 'author',
  editedAt: 'author',
  mentions: 'author',
  attachments: 'author',
  deleted: 'authorOrAdmin',
  threadCount: 'server',
  lastReplyAt: 'server',
  card: 'server'
} as const satisfies Record<string, 'immutable' | 'author' | 'authorOrAdmin' | 'server'>
export type MessageField = keyof typeof messageFieldOwner

/** Longest body we store; a longer one is refused, never truncated. */
export const MAX_BODY_CHARS = 40_000
/** How far a client clock may run ahead of the server's before createdAt is refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000

export const reactionKey = (memberId: string, emoji: string) => `${memberId}|${emoji}`
export function parseReactionKey(key: string): Reaction | null {
  const i = key.indexOf('|')
  if (i <= 0 || i === key.length - 1) return null
  return { memberId: key.slice(0, i), emoji: key.slice(i + 1) }
}
/** An emoji is short and has no whitespace; it is displayed, never interpreted. */
export const isValidEmoji = (emoji: string) => emoji.length > 0 && emoji.length <= 32 && !/\s|\|/.test(emoji)

export const messagesOf = (doc: Y.Doc) => doc.getArray<Y.Map<unknown>>(MESSAGES)
export const metaOf = (doc: Y.Doc) => doc.getMap<unknown>(META)

export function readMessage(map: Y.Map<unknown>): Message {
  const reactions: Reaction[] = []
  const r = map.get(REACTIONS)
  if (r instanceof Y.Map) {
    for (const key of r.keys()) {
      const parsed = parseReactionKey(key)
      if (parsed && r.get(key) === true) reactions.push(parsed)
    }
  }
  return {
    id: String(map.get('id')),
    author: String(map.get('author')),
    createdAt: Number(map.get('createdAt')),
    body: map.get('deleted') === true ? '' : String(map.get('body') ?? ''),
    editedAt: (map.get('editedAt') as number | undefined) ?? null,
    deleted: map.get('deleted') === true,
    mentions: (map.get('mentions') as string[] | undefined) ?? [],
    attachments: (map.get('attachments') as Attachment[] | undefined) ?? [],
    parentId: (map.get('parentId') as string | undefined) ?? null,
    reactions,
    threadCount: (map.get('threadCount') as number | undefined) ?? 0,
    lastReplyAt: (map.get('lastReplyAt') as number | undefined) ?? null,
    card: (map.get('card') as MessageCard | undefined) ?? null
  }
}

export function listMessages(doc: Y.Doc): Message[] {
  return messagesOf(doc).toArray().map(readMessage)
}

/** Keeps the first message of each id. The guard keeps ids unique, but a view keyed by id must
 *  never break on a doc that holds a duplicate (older data, another server). */
export function uniqueMessages(messages: Message[]): Message[] {
  const seen = new Set<string>()
  return messages.filter((m) => !seen.has(m.id) && (seen.add(m.id), true))
}

/** Finds a message map by id. Linear, newest first: recent messages are the ones edited. */
export function findMessage(doc: Y.Doc, id: string): Y.Map<unknown> | null {
  const arr = messagesOf(doc)
  for (let i = arr.length - 1; i >= 0; i--) {
    const m = arr.get(i)
    if (m.get('id') === id) return m
  }
  return null
}

export interface NewMessage {
  id?: string
  author: string
  body: string
  createdAt?: number
  mentions?: string[]
  attachments?: Attachment[]
  parentId?: string
  /** Server-authored messages only: the guard refuses a card from a client. */
  card?: MessageCard
}

/** Appends a message; returns its id. Every field a message needs is set in this one edit. */
export function appendMessage(doc: Y.Doc, input: NewMessage, origin?: unknown): string {
  const id = input.id ?? newId('message')
  const map = new Y.Map<unknown>()
  map.set('id', id)
  map.set('author', input.author)
  map.set('createdAt', input.createdAt ?? Date.now())
  map.set('body', input.body)
  if (input.mentions?.length) map.set('mentions', input.mentions)
  if (input.attachments?.length) map.set('attachments', input.attachments)
  if (input.parentId) map.set('parentId', input.parentId)
  if (input.card) map.set('card', input.card)
  map.set(REACTIONS, new Y.Map())
  doc.transact(() => messagesOf(doc).push([map]), origin)
  return id
}

export function editMessage(doc: Y.Doc, id: string, body: string, mentions: string[], origin?: unknown): boolean {
  const m = findMessage(doc, id)
  if (!m || m.get('deleted') === true) return false
  doc.transact(() => {
    m.set('body', body)
    m.set('mentions', mentions)
    m.set('editedAt', Date.now())
  }, origin)
  return true
}

/** Soft delete: the map stays so thread links and positions survive; the body is emptied. */
export function deleteMessage(doc: Y.Doc, id: string, origin?: unknown): boolean {
  const m = findMessage(doc, id)
  if (!m) return false
  doc.transact(() => {
    m.set('deleted', true)
    m.set('body', '')
  }, origin)
  return true
}

/** Toggles `memberId`'s `emoji` reaction; returns whether it is now on. */
export function toggleReaction(doc: Y.Doc, id: string, memberId: string, emoji: string, origin?: unknown): boolean | null {
  const m = findMessage(doc, id)
  const reactions = m?.get(REACTIONS)
  if (!(reactions instanceof Y.Map)) return null
  const key = reactionKey(memberId, emoji)
  const on = reactions.get(key) !== true
  doc.transact(() => (on ? reactions.set(key, true) : reactions.delete(key)), origin)
  return on
}

/** Server-only: replaces a message's card (e.g. an approval decided). */
export function setCard(doc: Y.Doc, id: string, card: MessageCard, origin?: unknown): boolean {
  const m = findMessage(doc, id)
  if (!m) return false
  doc.transact(() => m.set('card', card), origin)
  return true
}

/** Server-only: records a thread reply on its root message. */
export function noteThreadReply(doc: Y.Doc, rootId: string, count: number, at: number, origin?: unknown): boolean {
  const m = findMessage(doc, rootId)
  if (!m) return false
  doc.transact(() => {
    m.set('threadCount', count)
    m.set('lastReplyAt', at)
  }, origin)
  return true
}

/** Mentions are written `@handle` in the body; resolve them against the known handles. */
export function extractMentionHandles(body: string): string[] {
  const out = new Set<string>()
  for (const m of body.matchAll(/(^|[^\w@])@([a-z0-9][a-z0-9._-]{1,39})/gi)) out.add(m[2]!.toLowerCase().replace(/[._-]+$/, ''))
  return [...out]
}
