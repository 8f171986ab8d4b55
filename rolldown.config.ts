import { defineConfig, type RolldownOptions } from 'rolldown'

// The server as plain JavaScript for `node` (npm start, the Docker image): no TypeScript loader
// at run time. Each workspace package is built into its own dist/ beside src/, so paths found
// from a module's own URL (packages/db/drizzle, apps/web/build) and each package's dependencies
// resolve exactly as from src/. Every bare import stays external. A package's exports point to
// dist/ only under the `circlechat-built` condition, so tsx, vitest, vite and tsc read src/.
const pkg = (dir: string, entries = ['index']): RolldownOptions => ({
  input: Object.fromEntries(entries.map((e) => [e, `${dir}/src/${e}.ts`])),
  platform: 'node',
  external: [/^[^./]/],
  transform: { target: 'node20' },
  output: { dir: `${dir}/dist`, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs', cleanDir: true }
})

export default defineConfig([
  pkg('packages/protocol'),
  pkg('packages/model'),
  pkg('packages/db', ['index', 'pg']),
  pkg('sync-server', ['index', 'pg']),
  pkg('agent-gateway', ['main', 'worker', 'backup/cli', 'migrate-pg/cli'])
])
