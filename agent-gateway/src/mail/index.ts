export { createMailer, defaultFrom, type Mail, type Mailer, type SmtpSettings } from './mailer.js'
export { digestMail, inviteMail, resetMail, type DigestItem } from './messages.js'
