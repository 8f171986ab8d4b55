import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDb, type Db } from '@circlechat/db'
import { createScratchDatabase } from '@circlechat/db/pg'
import { startServer } from '../src/server.js'
import { addPerson, signupAdmin } from '../src/test/harness.js'
import { MIGRATE_PG_CLI, cleanEnv, runToExit } from '../src/test/main-process.js'

// `npm run migrate-to-postgres` (src/migrate-pg/cli.ts) in a child process, from an installation
// seeded through the real server into a scratch PostgreSQL database: every table must come back
// row for row, ids must continue, and a second copy into the same database must be refused.

const cli = (...args: string[]) => runToExit(process.execPath, ['--import', 'tsx', MIGRATE_PG_CLI, ...args], cleanEnv(), 120_000)

let dataDir: string
let target: { url: string; drop: () => Promise<void> }
let copied: Awaited<ReturnType<typeof cli>>

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cc-migrate-pg-'))
  // A socket agent nobody connects: its run fails fast, and is settled before the server stops.
  const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, agents: { attempts: 1, backoffMs: 10, socketTimeoutMs: 100 } })
  try {
    const ada = await signupAdmin(server.url)
    const bob = await addPerson(server.url, ada.client, 'bob')
    const channel = (await ada.client.post('/api/conversations', { kind: 'channel', name: 'launch', memberIds: [bob.member.id] })).body.conversation
    const post = async (client: typeof ada.client, body: Record<string, unknown>) => {
      const res = await client.post(`/api/conversations/${channel.id}/messages`, body)
      if (res.status !== 201) throw new Error(`post: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.message as { id: string }
    }
    const root = await post(ada.client, { bodyMd: 'Launch on Friday, @bob?' })
    await bob.client.post(`/api/messages/${root.id}/reactions`, { emoji: '👍' })
    await post(bob.client, { bodyMd: 'Yes, with @ada reviewing', parentId: root.id })
    const up = (await bob.client.upload('/api/uploads', 'plan.txt', 'the plan\n', 'text/plain')).body
    await post(bob.client, { bodyMd: 'the plan', attachments: [{ key: up.key, name: up.name, contentType: up.contentType, size: up.size }] })
    const task = (await ada.client.post('/api/tasks', { conversationId: channel.id, title: 'Write the post', bodyMd: 'a draft by Thursday' })).body.task
    await bob.client.post(`/api/tasks/${task.id}/comments`, { bodyMd: 'on it @ada' })
    const bot = (await ada.client.post('/api/agents', { name: 'Scribe', handle: 'scribe', adapter: 'socket', channelIds: [channel.id] })).body
    expect((await ada.client.post(`/api/agents/${bot.id}/memory`, { scope: 'global', key: 'tone', value: { formal: false, langs: ['en', 'fr'] } })).status).toBe(201)
    await post(ada.client, { bodyMd: '@scribe summarise the launch thread' })
    expect((await ada.client.patch('/api/admin/workspace', { name: 'Acme Labs' })).status).toBe(200)
    const runs = server.gateway.db.$client.prepare("SELECT count(*) FROM agent_runs WHERE status IN ('ok', 'silent', 'error')").pluck()
    for (let i = 0; i < 200 && runs.get() === 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(runs.get()).toBe(1)
  } finally {
    await server.close()
  }
  target = await createScratchDatabase()
  copied = await cli('--from', dataDir, '--to', target.url)
}, 180_000)

afterAll(async () => {
  await target?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

/** Canonical text of a value: object keys sorted (jsonb reorders them), bytes as hex. */
function canon(v: unknown): string {
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v)
}

/** A SQLite value in the shape node-postgres returns for a column of `type` (int8 as text). */
function fromSqlite(v: unknown, type: string): unknown {
  if (v === null) return null
  if (type === 'bigint') return String(v)
  if (type === 'boolean') return v === 1n
  if (type === 'jsonb') return JSON.parse(v as string)
  return v
}

describe('npm run migrate-to-postgres', () => {
  it('copies every table of a seeded installation row for row, and says files stay put', async () => {
    expect(copied.stderr).toBe('')
    expect(copied.code).toBe(0)
    expect(copied.stdout).toMatch(/^ {2}messages +\d+$/m)
    expect(copied.stdout).toMatch(/^ {2}message_mentions +\d+ \(rebuilt from messages; SQLite had \d+\)$/m)
    expect(copied.stdout).toMatch(/local uploads stay in .*uploads/)

    const sqlite: Db = openDb(join(dataDir, 'circlechat.db'))
    const client = new pg.Client({ connectionString: target.url })
    await client.connect()
    try {
      const all = (await client.query(`SELECT table_name, column_name, data_type, is_generated FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)).rows as Array<{ table_name: string; column_name: string; data_type: string; is_generated: string }>
      // Generated columns (search's tsvectors, the twins of FTS5) are computed from the copied rows.
      const cols = all.filter((c) => c.is_generated === 'NEVER')
      for (const g of all.filter((c) => c.is_generated !== 'NEVER')) {
        const { n } = (await client.query(`SELECT count(*)::int AS n FROM "${g.table_name}" WHERE "${g.column_name}" IS NULL`)).rows[0]
        expect(n, `${g.table_name}.${g.column_name}`).toBe(0)
      }
      const tables = [...new Set(cols.map((c) => c.table_name))]
      // Every SQLite table has its twin, FTS5 indexes and bookkeeping aside.
      const liteTables = (sqlite.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' AND name <> '__drizzle_migrations' ORDER BY name").pluck().all() as string[])
      expect(tables).toEqual(liteTables)
      const counts: Record<string, number> = {}
      for (const table of tables) {
        const columns = cols.filter((c) => c.table_name === table)
        const list = columns.map((c) => `"${c.column_name}"`).join(', ')
        const fromPg = (await client.query(`SELECT ${list} FROM "${table}"`)).rows.map((r) => canon(columns.map((c) => r[c.column_name]))).sort()
        const rows = sqlite.$client.prepare(`SELECT ${list} FROM "${table}"`).safeIntegers(true).raw(true).all() as unknown[][]
        const fromLite = rows.map((r) => canon(r.map((v, i) => fromSqlite(v, columns[i]!.data_type)))).sort()
        expect(fromPg, table).toEqual(fromLite)
        counts[table] = fromPg.length
      }
      // The seed reached every kind of data the copy converts: booleans, jsonb, bytea, bigserial.
      for (const t of ['users', 'members', 'sessions', 'conversations', 'conversation_members', 'messages', 'message_mentions', 'doc_updates', 'tasks', 'files', 'file_refs', 'agents', 'agent_memory', 'agent_runs', 'admin_audit']) {
        expect(counts[t], t).toBeGreaterThan(0)
      }

      // bigserial ids continue past the copied rows.
      for (const table of ['doc_updates', 'admin_audit']) {
        const max = Number((await client.query(`SELECT max(id) AS m FROM ${table}`)).rows[0].m)
        const next = table === 'doc_updates'
          ? await client.query(`INSERT INTO doc_updates (doc, data) VALUES ('after-copy', '\\x00') RETURNING id`)
          : await client.query(`INSERT INTO admin_audit (workspace_id, actor_id, action, target_kind, target_id, detail, created_at) VALUES ('w', 'a', 'x', 'k', 't', '{}', 0) RETURNING id`)
        expect(Number(next.rows[0].id), table).toBeGreaterThan(max)
      }
      // The trigger keeps mentions current for messages written on PostgreSQL, as on SQLite.
      await client.query(`INSERT INTO messages (id, conversation_id, doc, author, created_at, body, mentions, attachments, reactions) VALUES ('m_after', 'c', 'd', 'a', 1, 'hi', '["mem_x"]', '[]', '[]')`)
      expect((await client.query(`SELECT target FROM message_mentions WHERE message_id = 'm_after'`)).rows).toEqual([{ target: 'mem_x' }])
    } finally {
      await client.end()
      sqlite.$client.close()
    }
  })

  it('refuses a database that already holds data, in one line, changing nothing', async () => {
    const client = new pg.Client({ connectionString: target.url })
    await client.connect()
    try {
      const before = (await client.query('SELECT count(*) AS n FROM messages')).rows[0].n
      const again = await cli('--from', join(dataDir, 'circlechat.db'), '--to', target.url)
      expect(again.code).toBe(1)
      expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^migrate-to-postgres failed: the PostgreSQL database already holds data \(table \w+ has rows\)/)])
      expect((await client.query('SELECT count(*) AS n FROM messages')).rows[0].n).toBe(before)
    } finally {
      await client.end()
    }
  })

  it('refuses a database holding tables of something else, before creating anything in it', async () => {
    const other = await createScratchDatabase()
    try {
      const client = new pg.Client({ connectionString: other.url })
      await client.connect()
      try {
        await client.query('CREATE TABLE invoices (id int)')
        const r = await cli('--from', dataDir, '--to', other.url)
        expect(r.code).toBe(1)
        expect(r.stderr.trim().split('\n')).toEqual(['migrate-to-postgres failed: the PostgreSQL database already holds tables CircleChat does not own (public.invoices): copy into a new, empty database'])
        const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
        expect(rows).toEqual([{ table_name: 'invoices' }])
      } finally {
        await client.end()
      }
    } finally {
      await other.drop()
    }
  })

  it('bad arguments and an unreachable server give one clear line and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [[], 2, /^usage: npm run migrate-to-postgres -- --from/],
      [['--from', dataDir], 2, /^usage: /],
      [['--from', dataDir, '--to', 'mysql://db/x'], 2, /^--to must be a postgres:\/\/ URL/],
      [['--from', dataDir, '--to', 'not a url'], 2, /^--to is not a URL/],
      [['--from', join(dataDir, 'nope'), '--to', target.url], 2, /^no SQLite database at /],
      [['--from', dataDir, '--to', target.url, '--force'], 2, /^Unknown option '--force'/],
      [['--from', dataDir, '--to', 'postgres://postgres:secret@127.0.0.1:1/x'], 1, /^migrate-to-postgres failed: .*ECONNREFUSED/]
    ]
    for (const [args, code, line] of cases) {
      const r = await cli(...args)
      expect(r.code, args.join(' ')).toBe(code)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(line)])
      expect(r.stderr + r.stdout).not.toContain('secret')
    }
  })
})
