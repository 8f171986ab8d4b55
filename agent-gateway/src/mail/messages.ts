import type { Mail } from './mailer.js'

/** The mails CircleChat sends, in one place so their wording stays consistent. Plain text only. */

/** A display name on one line: a name is the inviter's own text, and may carry a newline. */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 80)

export function inviteMail(i: { to: string; workspace: string; inviter: string; url: string }): Mail {
  return {
    to: i.to,
    subject: `${oneLine(i.inviter)} invited you to ${oneLine(i.workspace)} on CircleChat`,
    text: [
      `${oneLine(i.inviter)} invited you to join ${oneLine(i.workspace)} on CircleChat.`,
      '',
      `Accept the invite and create your account: ${i.url}`,
      '',
      'If you did not expect this, ignore this mail.'
    ].join('\n')
  }
}

export function resetMail(r: { to: string; url: string; minutes: number }): Mail {
  return {
    to: r.to,
    subject: 'Reset your CircleChat password',
    text: [
      'Someone (hopefully you) asked to reset the password of your CircleChat account.',
      '',
      `Choose a new password: ${r.url}`,
      '',
      `The link works once, for ${r.minutes} minutes. Setting a new password signs you out everywhere else.`,
      'If you did not ask for this, ignore this mail: your password stays as it is.'
    ].join('\n')
  }
}

export interface DigestItem {
  by: string
  where: string
  at: number
  excerpt: string
  url: string
}

export function digestMail(d: { to: string; workspace: string; items: DigestItem[]; more: number; profileUrl: string }): Mail {
  const n = d.items.length + d.more
  const lines = d.items.flatMap((i) => [`${oneLine(i.by)} in ${oneLine(i.where)}, ${new Date(i.at).toUTCString()}:`, `  ${i.excerpt}`, `  ${i.url}`, ''])
  return {
    to: d.to,
    subject: `${n} unread mention${n === 1 ? '' : 's'} in ${oneLine(d.workspace)}`,
    text: [
      `While you were away you were mentioned ${n === 1 ? 'once' : `${n} times`} in ${oneLine(d.workspace)}:`,
      '',
      ...lines,
      ...(d.more > 0 ? [`…and ${d.more} more.`, ''] : []),
      `Turn these mails off on your profile: ${d.profileUrl}`
    ].join('\n')
  }
}
