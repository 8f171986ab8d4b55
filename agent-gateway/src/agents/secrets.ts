// Secrets an agent must never post, even when a model echoes its own config or a user pastes one.
// Each pattern is anchored on a prefix real credentials carry, so ordinary words never match.

export const REDACTED = '[redacted]'

const patterns: RegExp[] = [
  // PEM blocks of any label; an unterminated private key is cut to the end of the body.
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g,
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*/g,
  // `Authorization: Bearer x` and bare `Bearer x`; the token may be anything header-safe.
  /\b(?:authorization\s*:\s*)?bearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Our bot tokens: cc_ + 32 of [0-9a-z]. 20+ so a shortened paste is caught too; cc_session is 7.
  /\bcc_[0-9a-z]{20,}\b/g,
  // OpenAI / Anthropic style keys (sk-..., sk-proj-..., sk-ant-...).
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // JWTs: three base64url segments, the first two starting with `eyJ` ({"...).
  /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g,
  // GitHub and Slack tokens, AWS access key ids: common enough in team chat to be worth it.
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g
]

/** Replaces every secret with `[redacted]`; returns the body and how many were replaced. */
export function scrubSecrets(body: string): { body: string; count: number } {
  let count = 0
  let out = body
  for (const p of patterns) {
    out = out.replace(p, () => {
      count++
      return REDACTED
    })
  }
  return { body: out, count }
}
