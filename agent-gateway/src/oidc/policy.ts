import { and, asc, eq } from 'drizzle-orm'
import { members, users } from '@circlechat/db'
import type { Gateway } from '../deps.js'
import { forbidden } from '../errors.js'

/**
 * OIDC_ONLY: passwords sign in nobody but the break-glass admin, so the provider being down never
 * locks the server out. That is OIDC_BREAK_GLASS_EMAIL when set, else the first admin (the person
 * who created the workspace, or the oldest admin left); either must still be an active admin.
 * Other emails are refused before any password check, so the refusal says nothing about passwords.
 */
export function passwordLoginAllowed(gw: Gateway, email: string): boolean {
  const oidc = gw.config.oidc
  if (!oidc?.only) return true
  const admin = gw.db
    .select({ email: users.email })
    .from(members)
    .innerJoin(users, eq(users.id, members.userId))
    .where(and(eq(members.role, 'admin'), eq(members.deactivated, false), ...(oidc.breakGlassEmail ? [eq(users.email, oidc.breakGlassEmail)] : [])))
    .orderBy(asc(members.createdAt))
    .limit(1)
    .get()
  return admin?.email === email
}

/** Refuses a password sign-in (or a password sign-up through an invite) under OIDC_ONLY. */
export function assertPasswordLogin(gw: Gateway, email: string): void {
  if (passwordLoginAllowed(gw, email)) return
  throw forbidden('sso_only', `Password sign-in is turned off on this server; use “Sign in with ${gw.config.oidc!.name}”.`)
}
