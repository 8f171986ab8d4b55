#!/usr/bin/env node
// `npm start` and `npm test` on any machine with Node >= 20.19: installs pnpm and the
// workspace's dependencies, builds the web app when its sources changed, then starts the server
// or runs every test suite and prints one `N passed, N failed` line.
import { execSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const PNPM_VERSION = '12.21.0'
const root = join(import.meta.dirname, '..')
const mode = process.argv[2]

const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' }
// node-gyp must build better-sqlite3 against the local Node headers: nothing is downloaded.
if (existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr'

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts })
  if (r.status !== 0 && !opts.allowFail) process.exit(r.status ?? 1)
  return r
}

function pnpm() {
  const version = (() => {
    try { return execSync('pnpm --version', { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() } catch { return null }
  })()
  if (version !== PNPM_VERSION) {
    console.log(`Installing pnpm ${PNPM_VERSION}…`)
    run('npm', ['install', '-g', `pnpm@${PNPM_VERSION}`])
  }
  return 'pnpm'
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

function buildWebIfStale(pm) {
  const built = join(root, 'apps/web/build/200.html')
  const sources = ['apps/web/src', 'apps/web/static', 'packages/model/src', 'packages/protocol/src'].map((d) => join(root, d)).filter(existsSync)
  const stale = !existsSync(built) || Math.max(...sources.map(newestMtime), statSync(join(root, 'apps/web/vite.config.ts')).mtimeMs) > statSync(built).mtimeMs
  if (stale) run(pm, ['--filter', '@circlechat/web', 'build'])
}

const pm = pnpm()
run(pm, ['install', '--frozen-lockfile'])
buildWebIfStale(pm)

if (mode === 'start') {
  run(pm, ['serve'])
} else if (mode === 'test') {
  ensureRedis()
  mkdirSync(join(root, '.tmp'), { recursive: true })
  let passed = 0
  let failed = 0
  let status = 0
  for (const project of ['unit', 'e2e']) {
    const report = join(root, '.tmp', `vitest-${project}.json`)
    const r = run(pm, ['exec', 'vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { allowFail: true })
    if (r.status !== 0) status = r.status ?? 1
    if (existsSync(report)) {
      const json = JSON.parse(readFileSync(report, 'utf8'))
      passed += json.numPassedTests
      failed += json.numFailedTests
    } else {
      failed += 1
    }
  }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(status || (failed > 0 ? 1 : 0))
} else {
  console.error('usage: bootstrap.mjs start|test')
  process.exit(2)
}

/** Redis-path tests need a real Redis on 127.0.0.1:6379; start one if it is installed but down. */
function ensureRedis() {
  const up = spawnSync('redis-cli', ['-h', '127.0.0.1', 'ping'], { env }).stdout?.toString().trim() === 'PONG'
  if (up) return
  const r = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { env })
  if (r.status !== 0) console.warn('redis-server is not available: Redis-path tests will fail')
}
