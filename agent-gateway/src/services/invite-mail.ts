import type { AuthContext } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { inviteMail } from '../mail/index.js'

/**
 * Mails a new invite link when SMTP is set up (without it, createInvite has logged the link and
 * the admin copies it from the response). Resolves false rather than failing the invite when the
 * mail server refuses or cannot be reached: the invite exists, and the admin still has the link.
 */
export async function mailInvite(gw: Gateway, auth: AuthContext, to: string, url: string): Promise<boolean> {
  if (gw.mail.transport !== 'smtp') return false
  try {
    await gw.mail.send(inviteMail({ to, workspace: auth.workspace.name, inviter: auth.member.name, url }))
    return true
  } catch (err) {
    console.error(`could not mail the invite to ${to}:`, err instanceof Error ? err.message : err)
    return false
  }
}
