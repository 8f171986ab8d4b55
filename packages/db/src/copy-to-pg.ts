import Database from 'better-sqlite3'
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { openPgDb } from './client-pg.js'
import * as schema from './schema-pg.js'

/** Filled by PostgreSQL's own trigger on `messages` (migration 0001_message_mentions), never copied. */
const DERIVED = new Set(['message_mentions'])
// node-postgres binds at most 65,535 parameters a statement; 1,000 rows keeps a batch's memory small.
const MAX_PARAMS = 60_000
const MAX_ROWS = 1_000
// Any constant, other than the migrations' lock: two copies into one database run one after the other.
const COPY_LOCK = 0x63637067

export interface CopiedTable {
  table: string
  rows: number
  /** Rebuilt on PostgreSQL from the copied rows rather than copied; `sqliteRows` is what SQLite had. */
  derived?: { sqliteRows: number }
}

const q = (name: string) => `"${name}"`

/**
 * Copies a SQLite CircleChat database (`file`) into the PostgreSQL database at `url`, which it
 * creates the schema in (openPgDb's migrations) and which must hold no rows. The SQLite side is
 * opened read-only and read inside one read transaction, so the copy is one consistent moment
 * even while a server writes to the file (WAL); the PostgreSQL side is written in one
 * transaction, so a failure leaves it empty. Returns the tables in the order they were copied.
 */
export async function copySqliteToPg(file: string, url: string, log: (t: CopiedTable) => void = () => {}): Promise<CopiedTable[]> {
  const tables = dependencyOrder((Object.values(schema) as unknown[]).filter((t): t is PgTable => t instanceof PgTable))
  const sqlite = new Database(file, { readonly: true, fileMustExist: true })
  try {
    sqlite.pragma('busy_timeout = 5000')
    checkSource(sqlite, file, tables)
    await checkTargetIsOurs(url, tables)
    const db = await openPgDb(url, { max: 1 })
    const client = await db.$client.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock($1)', [COPY_LOCK])
      for (const t of tables) {
        const { name } = getTableConfig(t)
        const found = await client.query(`SELECT 1 FROM ${q(name)} LIMIT 1`)
        if (found.rowCount) throw new Error(`the PostgreSQL database already holds data (table ${name} has rows): copy into a new, empty database`)
      }
      // The read transaction starts with its first read: every table is read as of this moment.
      sqlite.prepare('BEGIN').run()
      const sequences = new Map<string, bigint>()
      if (sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) {
        for (const r of sqlite.prepare('SELECT name, seq FROM sqlite_sequence').safeIntegers(true).all() as Array<{ name: string; seq: bigint }>) sequences.set(r.name, r.seq)
      }
      const out: CopiedTable[] = []
      for (const t of tables.filter((t) => !DERIVED.has(getTableConfig(t).name))) {
        const cfg = getTableConfig(t)
        const columns = cfg.columns.filter((c) => !c.generated)
        let rows = 0
        const types = columns.map((c) => c.getSQLType())
        const names = columns.map((c) => q(c.name)).join(', ')
        const perBatch = Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length))
        const read = sqlite.prepare(`SELECT ${names} FROM ${q(cfg.name)}`).safeIntegers(true).raw(true)
        let batch: unknown[] = []
        const flush = async () => {
          if (batch.length === 0) return
          const n = batch.length / columns.length
          const values = Array.from({ length: n }, (_, r) => `(${columns.map((_c, i) => `$${r * columns.length + i + 1}`).join(', ')})`).join(', ')
          await client.query(`INSERT INTO ${q(cfg.name)} (${names}) VALUES ${values}`, batch)
          rows += n
          batch = []
        }
        for (const row of read.iterate() as IterableIterator<unknown[]>) {
          row.forEach((v, i) => batch.push(toPg(v, types[i]!, () => `${cfg.name}.${columns[i]!.name} (row ${rows + Math.floor(batch.length / columns.length) + 1})`)))
          if (batch.length >= perBatch * columns.length) await flush()
        }
        await flush()
        // bigserial ids continue past both the copied rows and ids SQLite handed out and deleted since.
        for (const c of columns.filter((c) => c.getSQLType() === 'bigserial')) {
          await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE(MAX(${q(c.name)}), 0), $3::bigint) + 1, false) FROM ${q(cfg.name)}`,
            [q(cfg.name), c.name, String(sequences.get(cfg.name) ?? 0n)])
        }
        out.push({ table: cfg.name, rows })
        log(out.at(-1)!)
      }
      // Counted once every table is in, so whatever they are derived from is too.
      for (const name of DERIVED) {
        const sqliteRows = Number(sqlite.prepare(`SELECT count(*) FROM ${q(name)}`).pluck().get())
        const rows = Number((await client.query(`SELECT count(*) AS n FROM ${q(name)}`)).rows[0].n)
        out.push({ table: name, rows, derived: { sqliteRows } })
        log(out.at(-1)!)
      }
      sqlite.prepare('COMMIT').run()
      await client.query('COMMIT')
      return out
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
      await db.$client.end()
    }
  } finally {
    sqlite.close()
  }
}

/** The source must be a CircleChat database at this version's schema: nothing left behind, nothing missing. */
function checkSource(sqlite: Database.Database, file: string, tables: PgTable[]) {
  const objects = sqlite.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string; sql: string | null }>
  if (objects.length === 0) throw new Error(`${file} holds no tables: is it a CircleChat database?`)
  const fts = objects.filter((o) => /^CREATE VIRTUAL TABLE/i.test(o.sql ?? '')).map((o) => o.name)
  const known = new Set(tables.map((t) => getTableConfig(t).name))
  for (const { name } of objects) {
    // FTS5 tables and their shadow tables are indexes of copied rows; PostgreSQL keeps its own.
    if (known.has(name) || name.startsWith('sqlite_') || name === '__drizzle_migrations' || fts.some((f) => name === f || name.startsWith(`${f}_`))) continue
    throw new Error(`${file} has a table ${name} that the PostgreSQL schema lacks: it is from a newer CircleChat, or not CircleChat's`)
  }
  for (const t of tables) {
    const cfg = getTableConfig(t)
    const have = new Set((sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(cfg.name) as string[]))
    const missing = cfg.columns.filter((c) => !c.generated && !have.has(c.name)).map((c) => `${cfg.name}.${c.name}`)
    if (missing.length > 0) throw new Error(`${file} lacks ${missing.join(', ')}: it is from an older CircleChat; start this version on it once so it migrates, stop it, then copy`)
  }
}

/** Before migrating into it: a database holding tables of something else is not ours to fill. */
async function checkTargetIsOurs(url: string, tables: PgTable[]) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const ours = new Set(tables.map((t) => getTableConfig(t).name))
    const found = (await client.query(`SELECT table_schema || '.' || table_name AS name, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'drizzle')`)).rows as Array<{ name: string; table_name: string }>
    const other = found.filter((r) => !r.name.startsWith('public.') || !ours.has(r.table_name)).map((r) => r.name)
    if (other.length > 0) throw new Error(`the PostgreSQL database already holds tables CircleChat does not own (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}): copy into a new, empty database`)
  } finally {
    await client.end()
  }
}

/** Referenced tables before the tables referring to them (schema order otherwise), so foreign keys hold row by row. */
function dependencyOrder(tables: PgTable[]): PgTable[] {
  const out: PgTable[] = []
  const visit = (t: PgTable) => {
    if (out.includes(t)) return
    for (const fk of getTableConfig(t).foreignKeys) {
      const target = fk.reference().foreignTable
      if (target !== t) visit(target)
    }
    out.push(t)
  }
  tables.forEach(visit)
  return out
}

/** A SQLite value (integers as BigInt) as node-postgres should send it to a column of `type`. */
function toPg(value: unknown, type: string, where: () => string): unknown {
  if (value === null) return null
  switch (type) {
    case 'text':
      if (typeof value === 'string') return value
      break
    case 'bigint':
    case 'bigserial':
      if (typeof value === 'bigint') return value.toString()
      break
    case 'boolean':
      if (value === 0n || value === 1n) return value === 1n
      break
    case 'jsonb':
      // The JSON text as it is: PostgreSQL parses it, and text that is not JSON fails the copy.
      if (typeof value === 'string') return value
      break
    case 'bytea':
      if (Buffer.isBuffer(value)) return value
      break
    default:
      throw new Error(`${where()}: no conversion to PostgreSQL's ${type} yet`)
  }
  const shown = Buffer.isBuffer(value) ? `${value.length} bytes` : JSON.stringify(typeof value === 'bigint' ? value.toString() : value).slice(0, 40)
  throw new Error(`${where()} holds ${typeof value === 'bigint' ? 'integer' : typeof value} ${shown}, which a PostgreSQL ${type} column cannot take`)
}
