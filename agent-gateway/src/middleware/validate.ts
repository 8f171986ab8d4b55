import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import type { z } from 'zod'
import { badRequest } from '../errors.js'

/** "email: Invalid email address; password: Too small…": one line a person can act on. */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; ')
}

/**
 * zValidator with our error shape: bad input is 400 invalid_input with a readable message,
 * thrown so app.onError renders it like every other error.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw badRequest('invalid_input', describeIssues(result.error.issues))
  })
}
