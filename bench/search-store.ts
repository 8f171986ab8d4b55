// bench/search-store: the same messages in SQLite (FTS5) and PostgreSQL (tsvector + GIN), then
// the SearchStore queries and the ranking search.ts applies (recentMatches, rankMatches), p50/p99 per query kind
// on each backend, for a member of 150 of 200 conversations. No HTTP: the database side only.
// PostgreSQL on 127.0.0.1:5432 (PG_TEST_URL overrides), a scratch database dropped after.
// Prints figures; asserts nothing. Run: npx tsx bench/search-store.ts [messages]
import { openDb } from '@circlechat/db'
import { createScratchDatabase, openPgDb } from '@circlechat/db/pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rankMatches } from '../agent-gateway/src/services/search-query.js'
import { recentMatches, sqliteSearchStore, type MessageScope, type SearchStore } from '../agent-gateway/src/services/search-store.js'
import { pgSearchStore } from '../agent-gateway/src/services/search-store-pg.js'
import { fmt, percentile } from './lib/stats.js'
import { pick, rand, VOCAB, word } from './lib/zipf-words.js'

const TOTAL = Number(process.argv[2] ?? 200_000)
const BATCH = 10_000
const CONVERSATIONS = 200
const MEMBER_OF = 150
const MEMBERS = 20

const dir = mkdtempSync(join(tmpdir(), 'cc-bench-search-store-'))
const sqlite = openDb(join(dir, 'search.db'))
const scratch = await createScratchDatabase()
const pg = await openPgDb(scratch.url, { max: 2 })
try {
  const now = Date.now()
  const members = Array.from({ length: MEMBERS }, (_, i) => `m_p${i}`)
  const convs = Array.from({ length: CONVERSATIONS }, (_, i) => `c_c${i}`)
  const memberships = convs.flatMap((c, i) => members.filter((m, j) => (j === 0 ? i < MEMBER_OF : rand() < 0.5)).map((m) => [c, m]))
  const people = `INSERT INTO workspaces (id, name, handle, created_at) VALUES ('w_bench', 'bench', 'bench', ${now})`
  sqlite.$client.exec(people)
  await pg.$client.query(people)
  for (const m of members) {
    const sql = `INSERT INTO members (id, workspace_id, kind, name, handle, role, created_at) VALUES ('${m}', 'w_bench', 'user', '${m}', '${m.slice(2)}', 'member', ${now})`
    sqlite.$client.exec(sql)
    await pg.$client.query(sql)
  }
  for (const c of convs) {
    const values = `('${c}', 'w_bench', 'channel', '${c}', %s, 'm_p0', ${now})`
    sqlite.$client.exec(`INSERT INTO conversations (id, workspace_id, kind, name, is_private, created_by, created_at) VALUES ${values.replace('%s', '1')}`)
    await pg.$client.query(`INSERT INTO conversations (id, workspace_id, kind, name, is_private, created_by, created_at) VALUES ${values.replace('%s', 'true')}`)
  }
  for (const [c, m] of memberships) {
    const sql = `INSERT INTO conversation_members (conversation_id, member_id, joined_at) VALUES ('${c}', '${m}', ${now})`
    sqlite.$client.exec(sql)
    await pg.$client.query(sql)
  }

  // ---- indexing: the same rows in the same order on both ----------------------------------------
  const insert = sqlite.$client.prepare(`INSERT INTO messages (id, conversation_id, doc, author, created_at, deleted, body, mentions, attachments, reactions)
    VALUES (?, ?, ?, ?, ?, 0, ?, '[]', '[]', '[]')`)
  const spent = { sqlite: 0, pg: 0 }
  const t0 = now - TOTAL * 10
  for (let done = 0; done < TOTAL; done += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, TOTAL - done) }, (_, i) => {
      const k = done + i
      const conv = convs[k % CONVERSATIONS]!
      return [`msg_bench${k.toString(36).padStart(11, '0')}`, conv, `conv:${conv}:0`, members[k % MEMBERS]!, t0 + k * 10, Array.from({ length: 5 + Math.floor(rand() * 20) }, word).join(' ')] as const
    })
    let t = performance.now()
    sqlite.$client.transaction(() => { for (const r of rows) insert.run(...r) })()
    spent.sqlite += performance.now() - t
    t = performance.now()
    const column = (i: number) => rows.map((r) => r[i])
    await pg.$client.query(`INSERT INTO messages (id, conversation_id, doc, author, created_at, body, mentions, attachments, reactions)
      SELECT id, c, d, a, t, b, '[]', '[]', '[]' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS u(id, c, d, a, t, b)`,
    [column(0), column(1), column(2), column(3), column(4), column(5)])
    spent.pg += performance.now() - t
  }
  await pg.$client.query('VACUUM ANALYZE messages')
  const rate = (ms: number) => Math.round(TOTAL / (ms / 1000)).toLocaleString('en')
  console.log(`indexed ${TOTAL.toLocaleString('en')} messages: SQLite ${rate(spent.sqlite)} msg/s (FTS5 triggers), PostgreSQL ${rate(spent.pg)} msg/s (generated tsvector + GIN), batches of ${BATCH.toLocaleString('en')}`)

  // ---- queries ----------------------------------------------------------------------------------
  const kinds: Record<string, () => Partial<MessageScope> & { q: string }> = {
    'common word (rank 1-20)': () => ({ q: pick(0, 20) }),
    'mid word (rank 100-1000)': () => ({ q: pick(100, 1000) }),
    'rare word (rank 5k-20k)': () => ({ q: pick(5000, VOCAB) }),
    'two words (common + mid)': () => ({ q: `${pick(0, 50)} ${pick(100, 1000)}` }),
    'prefix, 3 letters': () => ({ q: pick(100, 2000).slice(0, 3) }),
    'mid word, one conversation': () => ({ q: pick(100, 1000), conversationId: convs[Math.floor(rand() * MEMBER_OF)]! }),
    'mid word, from p3': () => ({ q: pick(100, 1000), author: 'm_p3' })
  }
  const stores: Record<string, SearchStore> = { SQLite: sqliteSearchStore(sqlite), PostgreSQL: pgSearchStore(pg) }
  for (const [kind, make] of Object.entries(kinds)) {
    const queries = Array.from({ length: 40 }, make)
    const line = [kind.padEnd(28)]
    for (const [name, store] of Object.entries(stores)) {
      for (const q of queries.slice(0, 5)) await store.messages({ memberId: 'm_p0', workspaceId: 'w_bench', publicChannels: false, ...q }) // warm the cache
      const times: number[] = []
      let hits = 0
      for (const q of queries) {
        const t = performance.now()
        const rows = rankMatches(await recentMatches(store, { memberId: 'm_p0', workspaceId: 'w_bench', publicChannels: false, ...q }), q.q)
        times.push(performance.now() - t)
        hits += rows.length
      }
      times.sort((a, b) => a - b)
      line.push(`${name} p50 ${fmt(percentile(times, 50)).padStart(9)} p99 ${fmt(percentile(times, 99)).padStart(9)} (${(hits / queries.length).toFixed(0)} in window)`)
    }
    console.log(line.join('  '))
  }
} finally {
  sqlite.$client.close()
  rmSync(dir, { recursive: true, force: true })
  await pg.$client.end()
  await scratch.drop()
}
