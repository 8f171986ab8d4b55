import type { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit as webBodyLimit } from 'hono/body-limit'
import type { HttpBindings } from '@hono/node-server'
import { ApiError } from '../errors.js'

/**
 * Refuses a request body over `maxSize` bytes with `onError` (which throws), on the Node
 * stream: Hono's own bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a
 * full web Request (headers, AbortSignal, web stream) for every API call, GETs included. A
 * declared Content-Length is checked without reading (Node's parser never delivers more); a
 * chunked body is read here up to the limit and handed on as `incoming.rawBody`, which
 * @hono/node-server serves `c.req.json()` and `c.req.raw` from. A request that did not come
 * from a socket (`app.request()`) has no Node stream and goes through Hono's bodyLimit.
 */
export function bodyLimit(maxSize: number, onError: () => never): MiddlewareHandler {
  const viaRequest = webBodyLimit({ maxSize, onError })
  return async function bodyLimit(c, next) {
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming
    if (!incoming) return viaRequest(c, next)
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const { 'content-length': length, 'transfer-encoding': chunked } = incoming.headers
    if (chunked === undefined) return length !== undefined && Number.parseInt(length, 10) > maxSize ? onError() : next()
    const body = await readUpTo(incoming, maxSize)
    if (body === null) return onError()
    ;(incoming as IncomingMessage & { rawBody?: Buffer }).rawBody = body
    return next()
  }
}

/**
 * The whole body, or null as soon as it passes `maxSize` bytes. Listeners rather than an async
 * iterator: leaving an iterator early destroys the socket the 413 is to be written to; Node
 * discards the unread rest once the response ends.
 */
function readUpTo(incoming: IncomingMessage, maxSize: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const settle = (result: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onEnded).off('close', onEnded)
      result()
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxSize) return settle(() => { incoming.pause(); resolve(null) })
      chunks.push(chunk)
    }
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks, size)))
    const onEnded = () => settle(() => reject(new ApiError(400, 'invalid_input', 'The request body ended before it was complete.')))
    incoming.on('data', onData).on('end', onEnd).on('error', onEnded).on('close', onEnded)
  })
}
