import { generateDrizzleJson, generateMigration, generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as pg from './schema-pg.js'
import * as sqlite from './schema.js'

/** The snapshot drizzle-kit wrote with the newest migration of `folder`. */
function lastSnapshot(folder: string) {
  const dir = join(import.meta.dirname, '..', folder)
  const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number }> }
  const idx = String(journal.entries.at(-1)!.idx).padStart(4, '0')
  return JSON.parse(readFileSync(join(dir, `meta/${idx}_snapshot.json`), 'utf8'))
}

// A schema change without its generated migration would ship a schema no database has.
describe('the migrations are generated from the current schemas', () => {
  it('SQLite: drizzle-kit has nothing left to generate', async () => {
    const prev = lastSnapshot('drizzle')
    expect(await generateSQLiteMigration(prev, await generateSQLiteDrizzleJson(sqlite, prev.id))).toEqual([])
  })

  it('PostgreSQL: drizzle-kit has nothing left to generate', async () => {
    const prev = lastSnapshot('drizzle-pg')
    expect(await generateMigration(prev, generateDrizzleJson(pg, prev.id))).toEqual([])
  })
})
