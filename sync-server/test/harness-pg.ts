import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createScratchDatabase, openPgDb, pgSchema, type PgDb } from '@circlechat/db/pg'
import { newId } from '@circlechat/model'
import { eq } from 'drizzle-orm'
import { createSyncServer, type Principal, type SyncConfig, type SyncServer } from '../src/index.js'
import type { ClusterOptions } from '../src/cluster/cluster.js'
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

export interface PgHarnessOptions {
  /** A database another process made (a cluster's), kept on close; by default a scratch one. */
  url?: string
  cluster?: ClusterOptions
  /** A member's id authenticates as that member, as in harness.ts (processes sharing a database). */
  memberIdTokens?: boolean
}

export async function startPgHarness(config?: Partial<SyncConfig>, opts: PgHarnessOptions = {}): Promise<PgHarness> {
  const scratch = opts.url ? { url: opts.url, drop: async () => {} } : await createScratchDatabase()
  const db = await openPgDb(scratch.url)
  const { conversations, conversationMembers, members, workspaces } = pgSchema
  const [existing] = await db.select({ id: workspaces.id }).from(workspaces).limit(1)
  const workspaceId = existing?.id ?? newId('workspace')
  if (!existing) await db.insert(workspaces).values({ id: workspaceId, name: 'PG', handle: 'pg', createdAt: Date.now() })
  const tokens = new Map<string, Principal>()
  const byId = async (id: string): Promise<Principal | null> => {
    const [m] = await db.select({ memberId: members.id, workspaceId: members.workspaceId, role: members.role, kind: members.kind }).from(members).where(eq(members.id, id))
    return (m as Principal | undefined) ?? null
  }
  const sync = createSyncServer({
    storage: pgStorage(db),
    cluster: opts.cluster,
    authenticate: async (req) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? ''
      return tokens.get(token) ?? (opts.memberIdTokens ? byId(token) : null)
    }
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
