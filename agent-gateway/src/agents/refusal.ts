/** Thrown inside an action to refuse it with a reason the agent reads in `lastRun`. */
export class Refused extends Error {}

export const refuse = (reason: string): never => {
  throw new Refused(reason)
}
