// PostgreSQL (DATABASE_URL), a subpath of its own: a one-box install on SQLite never loads the
// driver or pg-core (~60 ms of startup here).
export { openPgDb } from './client-pg.js'
export { copySqliteToPg, type CopiedTable } from './copy-to-pg.js'
export { createScratchDatabase } from './test/scratch-pg.js'
export type { PgDb, PgTx } from './client-pg.js'
export * as pgSchema from './schema-pg.js'
