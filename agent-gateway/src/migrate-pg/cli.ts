import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { copySqliteToPg } from '@circlechat/db/pg'
import { DB_FILE } from '../backup/layout.js'

/**
 * `npm run migrate-to-postgres -- --from <DATA_DIR or circlechat.db> --to postgres://…`: copies
 * a SQLite installation's database into an empty PostgreSQL database (schema created there).
 * Files stay where they are: local uploads in DATA_DIR/uploads, or the S3 bucket.
 */
const USAGE = 'usage: npm run migrate-to-postgres -- --from <DATA_DIR or circlechat.db> --to postgres://user:password@host:5432/database'

function fail(line: string, code: number): never {
  console.error(line)
  process.exit(code)
}

let from: string | undefined
let to: string | undefined
try {
  ;({ values: { from, to } } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true }))
} catch (err) {
  fail(`${(err as Error).message.split('\n')[0]}; ${USAGE}`, 2)
}
if (!from || !to) fail(USAGE, 2)

let target: URL
try {
  target = new URL(to)
} catch {
  fail(`--to is not a URL; ${USAGE}`, 2)
}
if (target.protocol !== 'postgres:' && target.protocol !== 'postgresql:') fail(`--to must be a postgres:// URL, not ${target.protocol}//…`, 2)
if (target.password) target.password = '***'

const source = resolve(from)
const file = existsSync(source) && statSync(source).isDirectory() ? join(source, DB_FILE) : source
if (!existsSync(file)) fail(`no SQLite database at ${file}: --from takes a DATA_DIR or its ${DB_FILE}`, 2)

console.log(`copying ${file} into ${target.toString()}`)
try {
  const tables = await copySqliteToPg(file, to, ({ table, rows, derived }) => {
    const note = derived ? ` (rebuilt from messages; SQLite had ${derived.sqliteRows}${derived.sqliteRows === rows ? '' : ', check the mentions'})` : ''
    console.log(`  ${table.padEnd(22)} ${String(rows).padStart(9)}${note}`)
  })
  console.log(`copied ${tables.reduce((n, t) => n + (t.derived ? 0 : t.rows), 0)} rows in ${tables.length} tables; the SQLite file is unchanged.`)
  console.log(`Files were not moved: local uploads stay in ${join(resolve(file, '..'), 'uploads')} and server.key beside the database. Keep that folder as DATA_DIR for the processes on PostgreSQL, or move the uploads to S3 (README, "Moving past one box").`)
} catch (err) {
  const e = err as Error & { code?: string; errors?: Error[] }
  // A refused connection is an AggregateError with no message of its own.
  fail(`migrate-to-postgres failed: ${e.message || e.errors?.[0]?.message || e.code || String(err)}`, 1)
}
