/** A server-authored edit could not be stored: it was not applied and nobody saw it. */
export class StorageFailure extends Error {
  readonly code: string | undefined
  constructor(cause: unknown) {
    super(`could not store the change: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'StorageFailure'
    this.code = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : undefined
  }
}
