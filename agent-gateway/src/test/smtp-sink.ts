import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface SinkMail {
  from: string
  to: string[]
  subject: string
  text: string
  parsed: ParsedMail
}

/**
 * A real SMTP server on loopback that keeps what it receives: tests point SMTP_URL at `url` and
 * read mails back with `next`. Plain SMTP without TLS or auth, as a local relay would be.
 */
export async function startSmtpSink(): Promise<{ url: string; mails: SinkMail[]; next(match?: (m: SinkMail) => boolean, timeoutMs?: number): Promise<SinkMail>; close(): Promise<void> }> {
  const mails: SinkMail[] = []
  const waiters = new Set<() => void>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          parsed
        })
        for (const w of waiters) w()
        callback()
      }, (err: Error) => callback(err))
    }
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()))
  const { port } = server.server.address() as AddressInfo
  let taken = 0
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** The first mail after those already taken that matches; rejects after timeoutMs. */
    next(match = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          for (let i = taken; i < mails.length; i++) {
            if (!match(mails[i]!)) continue
            taken = i + 1
            waiters.delete(look)
            clearTimeout(timer)
            resolve(mails[i]!)
            return
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(look)
          reject(new Error(`no matching mail within ${timeoutMs} ms (${mails.length} received)`))
        }, timeoutMs)
        waiters.add(look)
        look()
      })
    },
    close: () => new Promise<void>((done) => server.close(() => done()))
  }
}
