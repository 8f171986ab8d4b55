import type { RejectReason } from '@circlechat/protocol'

export type Verdict = { ok: true } | { ok: false; reason: RejectReason; detail: string }
export const accept: Verdict = { ok: true }
export const reject = (reason: RejectReason, detail: string): Verdict => ({ ok: false, reason, detail })

/** Thrown from deep inside a rule to reject the whole update at once. */
export class Rejection extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(`${reason}: ${detail}`)
  }
}
export const refuse = (reason: RejectReason, detail: string): never => {
  throw new Rejection(reason, detail)
}
