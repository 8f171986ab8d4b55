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
