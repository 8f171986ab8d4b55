/**
 * Graceful drain of the HTTP side on shutdown: counts requests in flight, answers requests that
 * arrive after the drain began with 503 (and `Connection: close`, so keep-alive clients go
 * away), and lets close() wait until the requests already running have answered.
 */
export class HttpDrain {
  #inFlight = 0
  #draining = false
  #idle: Array<() => void> = []

  get draining() {
    return this.#draining
  }

  /** Wraps the app's fetch handler. */
  wrap<E>(handler: (req: Request, env: E) => Response | Promise<Response>): (req: Request, env: E) => Promise<Response> {
    return async (req, env) => {
      if (this.#draining) return restarting()
      this.#inFlight++
      try {
        const res = await handler(req, env)
        if (this.#draining) {
          try {
            res.headers.set('connection', 'close') // this keep-alive connection ends with this answer
          } catch {} // immutable headers (a proxied Response): the closing server ends it anyway
        }
        return res
      } finally {
        if (--this.#inFlight === 0) for (const done of this.#idle.splice(0)) done()
      }
    }
  }

  /** Starts draining; resolves once no request is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true
    if (this.#inFlight === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>((done) => this.#idle.push(done)),
      new Promise<void>((done) => { timer = setTimeout(done, timeoutMs) })
    ])
    clearTimeout(timer)
  }
}

function restarting(): Response {
  return new Response(JSON.stringify({ error: 'restarting', message: 'The server is restarting; retry in a few seconds.' }), {
    status: 503,
    headers: { 'content-type': 'application/json', connection: 'close', 'retry-after': '2' }
  })
}
