import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import type { Gateway } from '../deps.js'
import { resolveRecipient } from './addresses.js'
import { deliverMail } from './deliver.js'
import { KeyedRate } from './rate.js'

/**
 * The inbound SMTP listener (SMTP_INBOUND_PORT): accepts mail only for enabled channel addresses,
 * refusing anything else at RCPT TO, before a byte of the message is sent. It speaks plain SMTP
 * without AUTH or STARTTLS: it is meant to sit behind the host's MTA (or a provider's inbound
 * relay), which handles TLS and adds the Authentication-Results header we read.
 */
export interface InboundLimits {
  /** Largest message, headers and encoded attachments included; advertised as SIZE (RFC 1870). */
  maxBytes: number
  /** Per envelope sender: a burst, then one message per interval. */
  senderBurst: number
  senderIntervalMs: number
  /** Per channel, whoever sends. */
  channelBurst: number
  channelIntervalMs: number
}

export const inboundDefaults: InboundLimits = {
  maxBytes: 25 * 1024 * 1024,
  // 10 at once, then one a minute: a person forwarding a thread, not a mailing-list flood.
  senderBurst: 10,
  senderIntervalMs: 60_000,
  // 30 at once, then one every 20 s: about what people read in a channel.
  channelBurst: 30,
  channelIntervalMs: 20_000
}

/** Recipients a message may name: one mail to a few channels, not a broadcast. */
const MAX_RECIPIENTS = 10

export interface InboundOptions {
  port: number
  host: string
  domain: string
  /** The authserv-id whose Authentication-Results we believe; defaults to `domain`. */
  authservId?: string
  limits?: Partial<InboundLimits>
}

export interface InboundListener {
  port: number
  close(): Promise<void>
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code })

export async function startInboundListener(gw: Gateway, opts: InboundOptions): Promise<InboundListener> {
  const limits: InboundLimits = { ...inboundDefaults, ...Object.fromEntries(Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined)) }
  const senders = new KeyedRate(limits.senderBurst, limits.senderIntervalMs)
  const channels = new KeyedRate(limits.channelBurst, limits.channelIntervalMs)
  const authservId = opts.authservId ?? opts.domain

  const onMailFrom = (address: SMTPServerAddress, _s: SMTPServerSession, done: (err?: Error | null) => void) => {
    const declared = Number((address.args as Record<string, string> | false || {}).SIZE ?? 0)
    if (declared > limits.maxBytes) return done(smtpError(552, `5.3.4 Message too large: at most ${limits.maxBytes} bytes`))
    if (!senders.take(address.address.toLowerCase())) return done(smtpError(450, '4.7.1 Too many messages from this sender; try again later'))
    done()
  }

  const onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, done: (err?: Error | null) => void) => {
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return done(smtpError(452, `4.5.3 At most ${MAX_RECIPIENTS} recipients a message`))
    const target = resolveRecipient(gw, opts.domain, address.address)
    if (!target) return done(smtpError(550, '5.1.1 No such address here: the channel address is unknown, turned off or was replaced'))
    if (!channels.take(target.conversationId)) return done(smtpError(450, '4.7.1 This channel is receiving too much mail; try again later'))
    done()
  }

  const onData = (stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void) => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (c: Buffer) => {
      size += c.length
      if (size <= limits.maxBytes) chunks.push(c)
    })
    stream.on('error', (err) => done(err))
    stream.on('end', () => {
      if (stream.sizeExceeded || size > limits.maxBytes) return done(smtpError(552, `5.3.4 Message too large: at most ${limits.maxBytes} bytes`))
      void receive(Buffer.concat(chunks), session).then((msg) => done(null, msg), (err: unknown) => {
        if ((err as { responseCode?: number }).responseCode) return done(err as Error)
        console.error('inbound mail could not be posted:', err)
        done(smtpError(451, '4.3.0 The message could not be posted; try again later'))
      })
    })
  }

  /**
   * Re-resolves every recipient now: an address turned off since RCPT TO gets nothing. One
   * failing channel makes the whole mail a 451, which the sender retries whole; the mail's key
   * (its Message-ID, else a hash of its bytes) keeps the channels that took it from taking it twice.
   */
  async function receive(raw: Buffer, session: SMTPServerSession): Promise<string> {
    const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true })
    const mailKey = `mail:${createHash('sha256').update(mail.messageId ? `id:${mail.messageId}` : raw).digest('base64url')}`
    const posted: string[] = []
    for (const rcpt of session.envelope.rcptTo) {
      const target = resolveRecipient(gw, opts.domain, rcpt.address)
      if (!target) continue
      posted.push(await deliverMail(gw, target, mail, { authservId, mailKey }))
    }
    if (!posted.length) throw smtpError(550, '5.1.1 None of the recipients takes mail any more')
    return `Posted as ${posted.join(', ')}`
  }

  const server = new SMTPServer({
    name: opts.domain,
    banner: 'CircleChat inbound mail',
    size: limits.maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    maxClients: 50,
    socketTimeout: 60_000,
    onMailFrom,
    onRcptTo,
    onData
  })
  server.on('error', (err) => console.error('inbound SMTP listener:', err.message))
  await new Promise<void>((ready, fail) => {
    const net = server.server
    net.once('error', fail)
    server.listen(opts.port, opts.host, () => {
      net.off('error', fail)
      ready()
    })
  })
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done()))
  }
}
