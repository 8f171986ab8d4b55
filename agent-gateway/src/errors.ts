import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Throws the API's error shape `{error, message}` (docs/api.md). Routes and services throw this
 * instead of building responses, so app.onError is the one place errors become JSON.
 */
export class ApiError extends HTTPException {
  readonly code: string
  constructor(status: ContentfulStatusCode, code: string, message: string) {
    super(status, { message })
    this.code = code
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message)
export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'Sign in first.')
export const forbidden = (code: string, message: string) => new ApiError(403, code, message)
export const notFound = (code: string, message: string) => new ApiError(404, code, message)
export const conflict = (code: string, message: string) => new ApiError(409, code, message)
