import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import * as schema from './schema-pg.js'

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool }
/** A transaction on PgDb: what writes that must commit with a doc update receive. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', 'drizzle-pg')
// Any constant: every CircleChat process migrating the same database takes this one lock.
const MIGRATE_LOCK = 0x63697263

/**
 * Connects to PostgreSQL (`url`: postgres://…) and applies pending migrations. Several processes
 * may start at once on one database, so migrating holds an advisory lock: one migrates, the
 * others wait and then find nothing to do. `max`: pool size (10, node-postgres' default).
 */
export async function openPgDb(url: string, { max = 10 } = {}): Promise<PgDb> {
  const pool = new pg.Pool({ connectionString: url, max })
  // An idle client losing its server emits on the pool; without a listener that kills the process.
  pool.on('error', (err) => console.error('postgres: idle connection failed', err.message))
  try {
    const client = await pool.connect()
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK])
      await migrate(drizzle(client, { schema }), { migrationsFolder })
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => {})
      client.release()
    }
    return drizzle(pool, { schema }) as PgDb
  } catch (err) {
    await pool.end()
    throw err
  }
}

/**
 * Creates an empty database next to the one `adminUrl` names (PG_TEST_URL, or the loopback
 * server's `postgres` database), for tests that need a real PostgreSQL of their own; `drop()`
 * removes it, closing what still uses it.
 */
export async function createScratchDatabase(adminUrl = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cc_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    }
  }
}
