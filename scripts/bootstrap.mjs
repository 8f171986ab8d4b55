#!/usr/bin/env node
// `npm start` and `npm test` on any machine with Node >= 20.19: installs pnpm and the
// workspace's dependencies, builds the web app and the server, then (`npm start`, by `exec` in
// package.json, so signals reach the server) runs the built server with node, or runs every
// test suite and prints one `N passed, N failed` line. A stamp of the lockfile and the sources
// lets a second start skip all of it: no pnpm process, no install, no build.
import { createHash } from 'node:crypto'
import { execSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const PNPM_VERSION = '12.21.0'
const root = join(import.meta.dirname, '..')
const mode = process.argv[2]
if (mode !== 'build' && mode !== 'test') {
  console.error('usage: bootstrap.mjs build|test')
  process.exit(2)
}

const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' }
// node-gyp must build better-sqlite3 against the local Node headers: nothing is downloaded.
if (existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr'

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts })
  if (r.status !== 0 && !opts.allowFail) process.exit(r.status ?? 1)
  return r
}

let pnpmChecked = false
function pnpm() {
  if (pnpmChecked) return 'pnpm'
  pnpmChecked = true
  const version = (() => {
    try { return execSync('pnpm --version', { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() } catch { return null }
  })()
  if (version !== PNPM_VERSION) {
    console.log(`Installing pnpm ${PNPM_VERSION}…`)
    run('npm', ['install', '-g', `pnpm@${PNPM_VERSION}`])
  }
  return 'pnpm'
}

/** Every file's path, mtime and size under `paths` (files or folders), hashed with `salt`. */
function fingerprint(salt, paths) {
  const hash = createHash('sha256').update(salt)
  const walk = (p) => {
    const st = statSync(p, { throwIfNoEntry: false })
    if (!st) return
    if (!st.isDirectory()) return void hash.update(`${p}:${st.mtimeMs}:${st.size}\n`)
    for (const name of readdirSync(p).sort()) if (name !== 'node_modules') walk(join(p, name))
  }
  for (const p of paths) walk(join(root, p))
  return hash.digest('hex')
}

const STAMP = join(root, 'node_modules/.circlechat-build.json')
const stamp = (() => {
  try { return JSON.parse(readFileSync(STAMP, 'utf8')) } catch { return {} }
})()
const deps = createHash('sha256').update(`${process.version}\n${PNPM_VERSION}\n`).update(readFileSync(join(root, 'pnpm-lock.yaml'))).digest('hex')
const packages = ['packages/protocol', 'packages/model', 'packages/db', 'sync-server', 'agent-gateway']
const steps = [
  { name: 'deps', key: deps, output: 'node_modules/.modules.yaml', run: () => run(pnpm(), ['install', '--frozen-lockfile']) },
  {
    name: 'web', output: 'apps/web/build/200.html', run: () => run(pnpm(), ['--filter', '@circlechat/web', 'build']),
    key: fingerprint(deps, ['apps/web/src', 'apps/web/static', 'apps/web/vite.config.ts', 'apps/web/package.json', 'packages/model/src', 'packages/protocol/src'])
  },
  {
    name: 'server', output: 'agent-gateway/dist/main.mjs', run: () => run(pnpm(), ['run', 'build:server']),
    key: fingerprint(deps, ['rolldown.config.ts', ...packages.flatMap((p) => [`${p}/src`, `${p}/package.json`])])
  }
]
for (const step of steps) {
  if (stamp[step.name] === step.key && existsSync(join(root, step.output))) continue
  step.run()
  stamp[step.name] = step.key
  writeFileSync(STAMP, JSON.stringify(stamp)) // after each step: a failed build redoes only itself
}

if (mode === 'test') {
  ensureRedis()
  mkdirSync(join(root, '.tmp'), { recursive: true })
  let passed = 0
  let failed = 0
  let status = 0
  for (const project of ['unit', 'e2e']) {
    const report = join(root, '.tmp', `vitest-${project}.json`)
    const r = run(pnpm(), ['exec', 'vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { allowFail: true })
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
}

/** Redis-path tests need a real Redis on 127.0.0.1:6379; start one if it is installed but down. */
function ensureRedis() {
  const up = spawnSync('redis-cli', ['-h', '127.0.0.1', 'ping'], { env }).stdout?.toString().trim() === 'PONG'
  if (up) return
  const r = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { env })
  if (r.status !== 0) console.warn('redis-server is not available: Redis-path tests will fail')
}
