import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createScratchDatabase, openPgDb, pgSchema, type PgDb } from '@circlechat/db/pg'
import { newId } from '@circlechat/model'
import { createSyncServer, type Principal, type SyncConfig, type SyncServer } from '../src/index.js'
import { pgStorage } from '../src/pg.js'

/**
 * A real relay on a loopback port over a scratch PostgreSQL database (127.0.0.1:5432, or
 * PG_TEST_URL's server), dropped on close. Tokens name seeded members, as in harness.ts.
 */
export interface PgHarness {
  db: PgDb
  sync: SyncServer
  url: string
  workspaceId: string
  seedMember(): Promise<{ id: string; token: string }>
  seedConversation(memberIds: string[]): Promise<string>
  close(): Promise<void>
}

export async function startPgHarness(config?: Partial<SyncConfig>): Promise<PgHarness> {
  const scratch = await createScratchDatabase()
  const db = await openPgDb(scratch.url)
  const { conversations, conversationMembers, members, workspaces } = pgSchema
  const workspaceId = newId('workspace')
  await db.insert(workspaces).values({ id: workspaceId, name: 'PG', handle: 'pg', createdAt: Date.now() })
  const tokens = new Map<string, Principal>()
  const sync = createSyncServer({
    storage: pgStorage(db),
    authenticate: async (req) => tokens.get(new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '') ?? null
  }, config)
  const server = createServer((_, res) => res.end('ok'))
  server.on('upgrade', (req, socket, head) => sync.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    db, sync, workspaceId,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/sync`,
    async seedMember() {
      const id = newId('member')
      await db.insert(members).values({ id, workspaceId, kind: 'user', name: id, handle: id.replace('_', '-'), role: 'member', createdAt: Date.now() })
      const token = newId('user')
      tokens.set(token, { memberId: id, workspaceId, role: 'member', kind: 'user' })
      return { id, token }
    },
    async seedConversation(memberIds) {
      const id = newId('conversation')
      await db.insert(conversations).values({ id, workspaceId, kind: 'channel', name: id, isPrivate: false, createdBy: memberIds[0]!, createdAt: Date.now() })
      await db.insert(conversationMembers).values(memberIds.map((memberId) => ({ conversationId: id, memberId, joinedAt: Date.now() - 1000 })))
      return id
    },
    async close() {
      await sync.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.$client.end()
      await scratch.drop()
    }
  }
}
