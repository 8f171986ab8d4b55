import { getTableConfig as pgConfig, PgColumn, PgTable } from 'drizzle-orm/pg-core'
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import * as pg from './schema-pg.js'
import * as sqlite from './schema.js'

// The PostgreSQL type each SQLite column kind must have (schema-pg.ts's header).
const kindOnPg: Record<string, string[]> = {
  SQLiteText: ['text'],
  SQLiteTextJson: ['jsonb'],
  SQLiteInteger: ['bigint', 'bigserial'],
  SQLiteBoolean: ['boolean'],
  SQLiteBlobBuffer: ['bytea']
}

interface Shape {
  columns: Record<string, { kind: string; notNull: boolean; hasDefault: boolean; primary: boolean; unique: boolean; enumValues: string[] | undefined }>
  primaryKeys: string[][]
  indexes: Record<string, { columns: string[]; unique: boolean; where: boolean }>
  foreignKeys: string[]
}

function shape(cfg: ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>): Shape {
  const columns: Shape['columns'] = {}
  for (const c of cfg.columns) {
    columns[c.name] = { kind: c instanceof PgColumn ? c.getSQLType() : c.columnType, notNull: c.notNull, hasDefault: c.hasDefault, primary: c.primary, unique: c.isUnique, enumValues: c.enumValues }
  }
  const indexes: Shape['indexes'] = {}
  for (const i of cfg.indexes) {
    indexes[i.config.name ?? ''] = {
      columns: i.config.columns.map((c) => ('name' in c ? String(c.name) : '?')),
      unique: i.config.unique ?? false,
      where: i.config.where !== undefined
    }
  }
  return {
    columns,
    primaryKeys: cfg.primaryKeys.map((pk) => pk.columns.map((c) => c.name)),
    indexes,
    foreignKeys: cfg.foreignKeys.map((fk) => {
      const r = fk.reference()
      return `${r.columns.map((c) => c.name).join(',')} → ${r.foreignColumns.map((c) => c.name).join(',')}`
    }).sort()
  }
}

const sqliteTables = new Map(Object.values(sqlite).filter((t) => t instanceof SQLiteTable).map((t) => [sqliteConfig(t).name, sqliteConfig(t)]))
const pgTables = new Map(Object.values(pg).filter((t) => t instanceof PgTable).map((t) => [pgConfig(t).name, pgConfig(t)]))

describe('the PostgreSQL schema is kept in step with the SQLite one', () => {
  it('has the same tables', () => {
    expect(sqliteTables.size).toBeGreaterThan(20)
    expect([...pgTables.keys()].sort()).toEqual([...sqliteTables.keys()].sort())
  })

  it('exports each table under the same name', () => {
    const names = (m: object, T: abstract new (...a: never[]) => unknown) => Object.entries(m).filter(([, t]) => t instanceof T).map(([k]) => k).sort()
    expect(names(pg, PgTable)).toEqual(names(sqlite, SQLiteTable))
  })

  for (const [name, lite] of sqliteTables) {
    it(`${name}: same columns, nullability, defaults, keys and indexes; kinds mapped`, () => {
      const a = shape(lite)
      const b = shape(pgTables.get(name)!)
      expect(Object.keys(b.columns).sort()).toEqual(Object.keys(a.columns).sort())
      for (const [col, c] of Object.entries(a.columns)) {
        const p = b.columns[col]!
        expect({ col, ...p, kind: undefined }).toEqual({ col, ...c, kind: undefined })
        expect(kindOnPg[c.kind], `${name}.${col}: ${c.kind} has no PostgreSQL kind`).toContain(p.kind)
      }
      expect(b.primaryKeys).toEqual(a.primaryKeys)
      expect(b.indexes).toEqual(a.indexes)
      expect(b.foreignKeys).toEqual(a.foreignKeys)
    })
  }
})
