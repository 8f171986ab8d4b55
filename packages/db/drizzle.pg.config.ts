import { defineConfig } from 'drizzle-kit'
// PostgreSQL (DATABASE_URL): the same tables from schema-pg.ts, migrations in their own folder.
export default defineConfig({ dialect: 'postgresql', schema: './src/schema-pg.ts', out: './drizzle-pg' })
