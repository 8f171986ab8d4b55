import { z } from 'zod'

/** Input rules shared by several routes, so signup and accept-invite agree on what a handle is. */

export const email = z.string().trim().toLowerCase().pipe(z.email('Enter a valid email address.'))
/** 8 chars minimum (NIST 800-63B); 256 maximum so a megabyte "password" cannot burn argon2 time. */
export const password = z.string().min(8, 'Use at least 8 characters.').max(256)
export const personName = z.string().trim().min(1, 'Enter a name.').max(80)
/** Same alphabet as `@mentions` (packages/model extractMentionHandles), so every handle is mentionable. */
export const handle = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,39}$/, 'Handles are 2–40 characters: letters, digits, ".", "_" or "-", starting with a letter or digit.')
  .refine((h) => !/[._-]$/.test(h), 'A handle cannot end with ".", "_" or "-".')
export const memberId = z.string().min(1).max(64)
export const channelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'Channel names are lowercase letters, digits, "-" or "_" (up to 80), starting with a letter or digit.')
/** Same bound as packages/model MAX_BODY_CHARS: longer bodies are refused, never truncated. */
export const bodyMd = z.string().max(40_000, 'Messages are at most 40,000 characters.').refine((s) => s.trim().length > 0, 'A message cannot be empty.')
