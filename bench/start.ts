// bench/start: spawn → first 200 on /health, RUNS times, for each way of running the server:
// `tsx` (the TypeScript sources through tsx's loader, as production ran before), `node` (the
// build, agent-gateway/dist), and `npm` (`npm start`: bootstrap, then the server). Each on a
// database that holds only people and on one with `messages` of history (bench/lib/history.ts),
// plus the server's RSS once it answered (not for `npm`, whose server is a grandchild).
// Run: npx tsx bench/start.ts [messages…]   (default 0 1000000; MODES=tsx,node,npm RUNS=5)
// `node` needs `npm run build:server`; `npm` should find its build stamp current, or it measures
// the install and build too.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { seedHistory, seedPeople } from './lib/history.js'
import { freePort, rssMiB } from './lib/stats.js'

const HISTORIES = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0, 1_000_000]
const MODES = (process.env.MODES ?? 'tsx,node,npm').split(',')
const RUNS = Number(process.env.RUNS ?? 5)
const root = join(import.meta.dirname, '..')

const commands: Record<string, string[]> = {
  tsx: [process.execPath, '--import', 'tsx', 'agent-gateway/src/main.ts'],
  node: [process.execPath, '--conditions=circlechat-built', 'agent-gateway/dist/main.mjs'],
  npm: ['npm', 'start', '--silent']
}

/** One start: ms from spawn to the first 200 on /health, and RSS then; stopped with SIGTERM. */
async function start(mode: string, dataDir: string): Promise<{ ms: number; rss: number | null }> {
  const port = await freePort()
  const [cmd, ...args] = commands[mode]!
  const t0 = performance.now()
  const child = spawn(cmd!, args, { cwd: root, env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise((r) => child.once('exit', r))
  let ms = 0
  for (let tries = 0; ; tries++) {
    if (tries > 6000 || child.exitCode !== null) throw new Error(`${mode} did not answer /health`)
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false)
    if (ok) {
      ms = performance.now() - t0
      break
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  const rss = mode === 'npm' ? null : rssMiB(child.pid!)
  child.kill('SIGTERM')
  await exited
  return { ms, rss }
}

console.log(`${RUNS} runs each; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`)
for (const history of HISTORIES) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-start-'))
  const info = await seedPeople(dataDir, 2)
  if (history > 0) seedHistory(dataDir, info, history, 2)
  // Interleaved (one start of each mode per round), so a change in the machine's load falls on all.
  const byMode = new Map(MODES.map((m) => [m, [] as Array<{ ms: number; rss: number | null }>]))
  for (let i = 0; i < RUNS; i++) for (const mode of MODES) byMode.get(mode)!.push(await start(mode, dataDir))
  for (const [mode, runs] of byMode) {
    const times = runs.map((r) => r.ms)
    const median = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!
    const rss = runs[0]!.rss === null ? '' : `, RSS ${runs.map((r) => r.rss!.toFixed(0)).join(', ')} MiB`
    console.log(`history ${history.toLocaleString('en')}, ${mode}: spawn → /health ${median.toFixed(0)} ms median (${times.map((t) => t.toFixed(0)).join(', ')})${rss}`)
  }
}
process.exit(0)
