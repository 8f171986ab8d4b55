import type { Transporter } from 'nodemailer'
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js'

/** One plain-text mail. Text only: names people chose go into it, and no HTML means no markup to escape. */
export interface Mail {
  to: string
  subject: string
  text: string
}

/**
 * Where mail goes: an SMTP server when SMTP_URL is set, else the process log, so an admin without
 * a mail server still gets every link (copied from the log, as invites always were).
 */
export interface Mailer {
  readonly transport: 'smtp' | 'log'
  /** Resolves once the SMTP server accepted the mail (or it was logged); rejects if it refused. */
  send(mail: Mail): Promise<void>
  close(): void
}

export interface SmtpSettings {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465 (TLS from the start). */
  url: string
  /** The From header, a bare address or `Name <address>`; unset: noreply at the public host. */
  from?: string
}

/**
 * Bounds on one delivery, so a dead mail server delays nothing for long: reset requests never
 * wait for it (routes answer first), and an invite waits at most about this long.
 */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 }

/**
 * `publicBaseUrl` is read at send time: a server on port 0 learns its URL after it is built.
 */
export function createMailer(smtp: SmtpSettings | undefined, publicBaseUrl: () => string, log: (line: string) => void = (line) => console.log(line)): Mailer {
  if (!smtp) return logMailer(log)
  // One pooled connection at most 2 wide: a digest pass sends a few mails in a row over one link.
  const options: SMTPPool.Options = { url: smtp.url, pool: true, maxConnections: 2, ...TIMEOUTS }
  // nodemailer loads with the first mail, not with every start.
  let transporter: Promise<Transporter> | null = null
  const connect = () => (transporter ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(options)))
  return {
    transport: 'smtp',
    async send(mail) {
      await (await connect()).sendMail({ from: smtp.from ?? defaultFrom(publicBaseUrl()), to: mail.to, subject: mail.subject, text: mail.text })
    },
    close: () => void transporter?.then((t) => t.close())
  }
}

function logMailer(log: (line: string) => void): Mailer {
  return {
    transport: 'log',
    async send(mail) {
      // No mail server (SMTP_URL unset): the admin reads the mail, link included, from the log.
      log(`mail to ${mail.to} (not sent: SMTP_URL is unset): ${mail.subject}\n${mail.text}`)
    },
    close: () => {}
  }
}

/** The From address when SMTP_FROM is unset: noreply at the public host. */
export const defaultFrom = (publicBaseUrl: string) => `CircleChat <noreply@${new URL(publicBaseUrl).hostname}>`
