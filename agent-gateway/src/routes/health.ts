import { Hono } from 'hono'

/** Liveness for Docker/systemd/Caddy: answers as long as the event loop does. */
export function healthRoutes() {
  return new Hono().get('/', (c) => c.json({ ok: true }))
}
