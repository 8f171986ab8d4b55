import { Hono } from 'hono'
import type { SyncServer } from '@circlechat/sync-server'

/**
 * Liveness for Docker/systemd/Caddy: answers as long as the event loop does, and 503 while the
 * last attempt to store a change failed (disk full, read-only) until a write succeeds again, so
 * a supervisor or a person sees that writes are not being kept.
 */
export function healthRoutes(sync: Pick<SyncServer, 'storageError'>) {
  return new Hono().get('/', (c) => {
    const storage = sync.storageError()
    return storage === null ? c.json({ ok: true }) : c.json({ ok: false, storage }, 503)
  })
}
