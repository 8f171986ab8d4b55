import { execFileSync, execSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { join } from 'node:path'

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export const fmt = (ms: number) => `${ms.toFixed(2)} ms`

/** A loopback port free right now, for a server child that is told its port. */
export const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  })
})

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return Number(line?.match(/\d+/)?.[0] ?? 0) / 1024
}

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** Deletes a run's Redis keys (leases, fences, streams, limits): every bench run has its own prefix. */
export function dropRedisKeys(redisUrl: string, prefix: string): void {
  const keys = execFileSync('redis-cli', ['-u', redisUrl, '--scan', '--pattern', `${prefix}*`]).toString().split('\n').filter(Boolean)
  for (let i = 0; i < keys.length; i += 1000) execFileSync('redis-cli', ['-u', redisUrl, 'del', ...keys.slice(i, i + 1000)])
}

/** With CPU_PROF=<dir>, a server child writes a V8 CPU profile there when it exits. */
const cpuProfArgs = () => (process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : [])

/** Starts bench/lib/relay-child.ts and returns its first stdout line, parsed. */
export async function startRelayChild<T>(dataFile: string, members: number, config?: Record<string, number>, cluster?: Record<string, unknown>): Promise<{ child: ChildProcess; info: T }> {
  const args = [join(import.meta.dirname, 'relay-child.ts'), dataFile, String(members), ...(config || cluster ? [JSON.stringify(config ?? {})] : []), ...(cluster ? [JSON.stringify(cluster)] : [])]
  const child = spawn(process.execPath, [...cpuProfArgs(), '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
  return { child, info: JSON.parse(line) as T }
}

/** A further relay of a cluster on `dataFile` (sync-server's test fixture; member ids are tokens), with a 5 s lease. */
export async function startClusterRelay(dataFile: string, redisUrl: string, prefix: string, holder: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../sync-server/test/fixtures/child-cluster-relay.ts'), dataFile, redisUrl, prefix, holder, '5000'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
  return { child, url: (JSON.parse(line) as { url: string }).url }
}

/**
 * bench/lib/gateway-child.ts with `members` people on `dataDir`, under `env` (CLUSTER=redis and
 * the like); `join`: a further process of a cluster, seeding nothing. Resolves with its first line.
 */
export async function startGatewayChild<T>(members: number, dataDir: string, env: NodeJS.ProcessEnv, join_?: 'join'): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'gateway-child.ts'), String(members), dataDir, ...(join_ ? [join_] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env })
  const lines = createInterface({ input: child.stdout! })
  const first = JSON.parse(await new Promise<string>((resolve) => lines.once('line', resolve))) as T
  lines.on('line', () => {}) // the server's own log lines
  return { child, first }
}

/**
 * Starts bench/lib/server-child.ts on `dataDir` and returns the child and its URL. With
 * CPU_PROF=<dir> the server writes a V8 CPU profile there when it exits (`node --cpu-prof`).
 */
export async function startServerChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  if (process.env.MODE === 'node') return startBuiltServer(dataDir)
  const child = spawn(process.execPath, [...cpuProfArgs(), '--import', 'tsx', join(import.meta.dirname, 'server-child.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
  return { child, url }
}

/** MODE=node: the build (agent-gateway/dist, `pnpm build:server`) as `npm start` runs it, configured from the environment. */
async function startBuiltServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort()
  const root = join(import.meta.dirname, '../..')
  const env = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', AGENT_ALLOW_PRIVATE_URLS: '1' }
  const child = spawn(process.execPath, [...cpuProfArgs(), '--conditions=circlechat-built', join(root, 'agent-gateway/dist/main.mjs')], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; !(await fetch(`${url}/health`).then((r) => r.ok, () => false)); tries++) {
    if (tries > 3000 || child.exitCode !== null) throw new Error('the built server did not answer /health')
    await new Promise((r) => setTimeout(r, 10))
  }
  return { child, url }
}
