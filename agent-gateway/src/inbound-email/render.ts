import DOMPurify from 'isomorphic-dompurify'
import TurndownService from 'turndown'
import type { ParsedMail } from 'mailparser'
import { MAX_BODY_CHARS, type EmailMessageCard } from '@circlechat/model'

/**
 * A parsed mail → the message body (markdown) and its email card. The body carries the subject
 * and sender too, so agents (whose packets hold bodies, not cards), search and REST readers see
 * them. HTML-only mail is sanitised with DOMPurify to a small set of text tags — no images at
 * all, so no remote image can track who opened it — then turned into markdown; the web client
 * sanitises the rendered markdown again as it does for every message.
 */

const TEXT_TAGS = [
  'a', 'b', 'strong', 'i', 'em', 'u', 's', 'strike', 'del', 'p', 'br', 'div', 'span', 'ul', 'ol', 'li', 'blockquote',
  'pre', 'code', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'td', 'th'
]

export function sanitiseMailHtml(html: string): string {
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: TEXT_TAGS,
    ALLOWED_ATTR: ['href'],
    // Links to the web and mail only: no javascript:, data: or cid: URLs.
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i
  })
}

const turndown = () => new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' })

export function htmlToMarkdown(html: string): string {
  return turndown().turndown(sanitiseMailHtml(html)).trim()
}

/** Markdown-inert text for a header value: the sender wrote it, it must not format or link. */
export function escapeInline(text: string): string {
  return text.replace(/[\\`*_[\]{}()<>#+!|~-]/g, (c) => `\\${c}`).replace(/\s+/g, ' ').trim()
}

/**
 * The SPF, DKIM and DMARC verdicts of the first Authentication-Results header added by our own
 * receiving host (`authservId`). Anyone can write that header into a mail, so a header naming
 * another host, or any header below ours, is ignored (RFC 8601 §5).
 */
export function authResults(mail: ParsedMail, authservId: string): EmailMessageCard['auth'] | undefined {
  const lines = mail.headerLines.filter((h) => h.key === 'authentication-results')
  const first = lines[0]?.line.replace(/^authentication-results:\s*/i, '').replace(/\s+/g, ' ')
  if (!first) return undefined
  const id = first.split(';')[0]!.trim().split(/\s+/)[0]!.toLowerCase()
  if (id !== authservId.toLowerCase()) return undefined
  const out: NonNullable<EmailMessageCard['auth']> = {}
  for (const method of ['spf', 'dkim', 'dmarc'] as const) {
    const m = new RegExp(`(?:^|;)\\s*${method}\\s*=\\s*([a-z]+)`, 'i').exec(first)
    if (m) out[method] = m[1]!.toLowerCase()
  }
  return Object.keys(out).length ? out : undefined
}

export interface RenderedMail {
  body: string
  card: EmailMessageCard
}

/** `notes` are lines the server adds below the text (attachments it could not keep, a cut body). */
export function renderMail(mail: ParsedMail, opts: { authservId: string; notes?: string[] }): RenderedMail {
  const from = mail.from?.value[0]
  const address = (from?.address ?? '').slice(0, 320)
  const name = (from?.name ?? '').slice(0, 200)
  const subject = (mail.subject ?? '').slice(0, 500)
  const text = mail.text?.trim() ? mail.text.trim() : typeof mail.html === 'string' ? htmlToMarkdown(mail.html) : ''
  const header = [
    `**${subject ? escapeInline(subject) : '(no subject)'}**`,
    `From ${name ? `${escapeInline(name)} · ` : ''}${escapeInline(address || 'an unknown sender')}`
  ].join('  \n') // two spaces: a hard line break in markdown
  const notes = (opts.notes ?? []).map((n) => `_${escapeInline(n)}_`)
  const room = MAX_BODY_CHARS - header.length - notes.join('\n\n').length - 200
  const cut = text.length > room
  const parts = [header, cut ? `${text.slice(0, room)}…` : text, ...notes, ...(cut ? ['_The mail was longer; the rest was cut._'] : [])]
  const auth = authResults(mail, opts.authservId)
  return {
    body: parts.filter(Boolean).join('\n\n'),
    card: { kind: 'email', from: address, fromName: name, subject, ...(auth ? { auth } : {}) }
  }
}
