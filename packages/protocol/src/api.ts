/** Every 4xx/5xx body from /api is this shape, so clients can show `message` as-is. */
export interface ApiError {
  error: string
  message: string
}
