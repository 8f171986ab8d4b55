import { createScratchDatabase, pgSchema } from '@circlechat/db/pg'
import { and, asc, count, eq } from 'drizzle-orm'
import type { Principal, SyncServer } from '../src/index.js'
import type { ClusterOptions } from '../src/cluster/cluster.js'
import { SqliteStore } from '../src/persistence/sqlite.js'
import { PgDocStore } from '../src/pg.js'
import { startHarness } from './harness.js'
import { startPgHarness } from './harness-pg.js'
import { scratchDb } from './cluster-setup.js'

/**
 * The database a cluster test's processes share, with the relay of the test's own process on it:
 * a SQLite file in WAL, or a scratch PostgreSQL database. `where` is what a child relay is given
 * (fixtures/child-cluster-relay.ts) to open the same one. Everything reads the database itself.
 */
export interface ClusterDb {
  where: string
  sync: SyncServer
  url: string
  seedMember(): Promise<Principal>
  seedConversation(memberIds: string[]): Promise<string>
  removeMember(conversationId: string, memberId: string): Promise<void>
  storedUpdates(doc: string): Promise<number>
  /** The doc's indexed messages' bodies, oldest first. */
  messageBodies(doc: string): Promise<string[]>
  loadDoc(doc: string): Promise<Uint8Array[]>
  close(): Promise<void>
}

export type ClusterBackend = (cluster: ClusterOptions) => Promise<ClusterDb>

export const sqliteCluster: ClusterBackend = async (cluster) => {
  const file = scratchDb('cluster')
  const h = await startHarness({ dataFile: file.file, memberIdTokens: true, cluster })
  const sqlite = h.db.$client
  return {
    where: file.file, sync: h.sync, url: h.url,
    seedMember: async () => h.seedMember(),
    seedConversation: async (ids) => h.seedConversation(ids),
    removeMember: async (conv, member) => void sqlite.prepare('DELETE FROM conversation_members WHERE conversation_id = ? AND member_id = ?').run(conv, member),
    storedUpdates: async (doc) => sqlite.prepare('SELECT count(*) FROM doc_updates WHERE doc = ?').pluck().get(doc) as number,
    messageBodies: async (doc) => sqlite.prepare('SELECT body FROM messages WHERE doc = ? ORDER BY created_at').pluck().all(doc) as string[],
    loadDoc: (doc) => new SqliteStore(h.db).loadDoc(doc),
    async close() {
      await h.close()
      file.remove()
    }
  }
}

export const postgresCluster: ClusterBackend = async (cluster) => {
  const scratch = await createScratchDatabase()
  const h = await startPgHarness(undefined, { url: scratch.url, memberIdTokens: true, cluster })
  const { db } = h
  const { conversationMembers, docUpdates, messages } = pgSchema
  return {
    where: scratch.url, sync: h.sync, url: h.url,
    async seedMember() {
      const { id } = await h.seedMember()
      return { memberId: id, workspaceId: h.workspaceId, role: 'member', kind: 'user' }
    },
    seedConversation: (ids) => h.seedConversation(ids),
    removeMember: async (conv, member) => void await db.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, conv), eq(conversationMembers.memberId, member))),
    storedUpdates: async (doc) => (await db.select({ n: count() }).from(docUpdates).where(eq(docUpdates.doc, doc)))[0]!.n,
    messageBodies: async (doc) => (await db.select({ body: messages.body }).from(messages).where(eq(messages.doc, doc)).orderBy(asc(messages.createdAt))).map((m) => m.body),
    loadDoc: (doc) => new PgDocStore(db).loadDoc(doc),
    async close() {
      await h.close() // the harness keeps a database it did not make
      await scratch.drop()
    }
  }
}

/** Polls `check` (a database read) until it holds. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (const start = Date.now(); !(await check());) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
