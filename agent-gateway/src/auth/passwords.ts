import { Algorithm, hash, verify } from '@node-rs/argon2'

/**
 * argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): ~70 ms a hash on a Pi-class 2-core
 * machine. Set explicitly because argon2 libraries disagree on defaults (node-argon2 uses 64 MiB,
 * t=3, p=4: ~770 ms, which would let a burst of logins stall the relay).
 */
const params = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

export const hashPassword = (password: string) => hash(password, params)

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password)
  } catch {
    return false // a malformed stored hash is a failed login, not a 500
  }
}

/**
 * A hash (same parameters) of a password nobody uses, verified when the email is unknown so a
 * login for a missing account costs as much time as one for a real account (no user enumeration
 * by timing).
 */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$fQb29MwvVrArydGlqgZvpA$TUzpTAIHI+nVZDcCjPNW51/ufeIUH4rlMWO6qF30AiM'
export async function burnPasswordCheck(password: string): Promise<void> {
  await verifyPassword(DUMMY_HASH, password)
}
