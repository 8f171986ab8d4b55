import { and, eq, ne } from 'drizzle-orm'
import { fileRefs, files, members, users } from '@circlechat/db'
import { hashPassword, verifyPassword } from '../auth/passwords.js'
import type { AuthContext, MemberRow } from '../auth/principal.js'
import type { Gateway } from '../deps.js'
import { ApiError, badRequest } from '../errors.js'
import { assertHandleFree } from './accounts.js'
import { mirrorMember } from './doc-mirror.js'
import { isPreviewableImage } from './file-content.js'
import { fileUrl } from './files.js'
import { memberShape } from './shapes.js'
import { announceEnded, endSessions, personOf } from './user-sessions.js'

/** What the profile page edits, and whether mail actually leaves the server. */
export function profileOf(gw: Gateway, auth: AuthContext) {
  const user = personOf(auth)
  const row = gw.db.select({ mentionDigest: users.mentionDigest }).from(users).where(eq(users.id, user.id)).get()
  return { member: memberShape(auth.member), email: user.email, mentionDigest: row?.mentionDigest ?? false, mail: gw.mail.transport }
}

export interface ProfilePatch {
  name?: string
  handle?: string
  title?: string | null
  /** An image the caller uploaded (POST /api/uploads); null removes the avatar. */
  avatarKey?: string | null
  mentionDigest?: boolean
}

/** The avatar's file_refs row: one per member, workspace-wide, so everyone may fetch it. */
const avatarRef = (memberId: string) => `avatar:${memberId}`

/**
 * A person edits their own member row; the directory doc (where names and avatars come from
 * everywhere in the app) is rewritten after the commit. An avatar is the thumbnail of an image
 * the caller uploaded; the workspace may read that file from then on, and the previous one is
 * released to the collector.
 */
export async function updateProfile(gw: Gateway, auth: AuthContext, patch: ProfilePatch): Promise<ReturnType<typeof profileOf>> {
  const user = personOf(auth)
  const me = auth.member
  const now = Date.now()
  const updated = gw.db.transaction((tx) => {
    const set: Partial<MemberRow> = {}
    if (patch.name !== undefined) set.name = patch.name
    if (patch.title !== undefined) set.title = patch.title === null || patch.title === '' ? null : patch.title
    if (patch.handle !== undefined && patch.handle !== me.handle) {
      assertHandleFree(tx, me.workspaceId, patch.handle)
      set.handle = patch.handle
    }
    if (patch.avatarKey !== undefined) {
      tx.update(fileRefs).set({ deleted: true }).where(and(eq(fileRefs.ref, avatarRef(me.id)), patch.avatarKey ? ne(fileRefs.fileKey, patch.avatarKey) : undefined)).run()
      if (patch.avatarKey === null) set.avatar = null
      else {
        const f = tx.select().from(files).where(and(eq(files.key, patch.avatarKey), eq(files.owner, me.id), eq(files.workspaceId, me.workspaceId))).get()
        if (!f) throw badRequest('invalid_avatar', 'Upload the picture first (POST /api/uploads), then send the key it answered.')
        if (!isPreviewableImage(f.contentType) || !f.thumbSha256) throw badRequest('invalid_avatar', 'An avatar must be a PNG, JPEG, GIF or WebP picture.')
        tx.insert(fileRefs).values({ fileKey: f.key, ref: avatarRef(me.id), scope: me.workspaceId, deleted: false, createdAt: now })
          .onConflictDoUpdate({ target: [fileRefs.fileKey, fileRefs.ref], set: { deleted: false } }).run()
        set.avatar = `${fileUrl(f.key)}/thumb`
      }
    }
    if (patch.mentionDigest !== undefined) {
      // Opting in covers mentions from now on: no mail full of last month's mentions.
      tx.update(users).set(patch.mentionDigest ? { mentionDigest: true, digestThrough: now } : { mentionDigest: false }).where(eq(users.id, user.id)).run()
    }
    if (Object.keys(set).length === 0) return me
    tx.update(members).set(set).where(eq(members.id, me.id)).run()
    return { ...me, ...set }
  })
  if (updated !== me) await mirrorMember(gw, updated)
  return profileOf(gw, { ...auth, member: updated })
}

/**
 * Changes the caller's password after checking the current one; every other session of theirs
 * ends (sockets too), the one making the change stays signed in.
 */
export async function changePassword(gw: Gateway, auth: AuthContext, current: string, next: string): Promise<{ endedSessions: number }> {
  const user = personOf(auth)
  const row = gw.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, user.id)).get()
  if (!row || !(await verifyPassword(row.passwordHash, current))) throw new ApiError(403, 'wrong_password', 'Your current password is wrong.')
  const passwordHash = await hashPassword(next)
  const ended = gw.db.transaction((tx) => {
    tx.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run()
    return endSessions(tx, user.id, auth.session?.id)
  })
  announceEnded(gw, ended)
  return { endedSessions: ended.length }
}
