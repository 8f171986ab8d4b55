import { defineConfig } from 'vitest/config'

// One runner for everything: `unit` covers packages, servers and examples (real SQLite, real
// sockets on loopback, real Redis where a test says so); `e2e` drives real Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/src/**/*.test.ts', 'apps/web/src/**/*.spec.ts', 'examples/**/*.test.ts', 'sync-server/test/**/*.test.ts', 'agent-gateway/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'apps/web/build/**', 'apps/web/.svelte-kit/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000
        }
      },
      {
        test: {
          name: 'e2e',
          include: ['apps/web/e2e/**/*.e2e.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false
        }
      }
    ]
  }
})
