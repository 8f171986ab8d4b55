import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** The real entry points, run with tsx the way `pnpm serve` runs them. */
export const MAIN = join(import.meta.dirname, '../main.ts')
export const BACKUP_CLI = join(import.meta.dirname, '../backup/cli.ts')
export const MIGRATE_PG_CLI = join(import.meta.dirname, '../migrate-pg/cli.ts')

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

/** The environment without any CircleChat variable the test runner itself may carry. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PORT|HOST|DATA_DIR|PUBLIC_BASE_URL|SESSION_SECRET|TRUST_PROXY|S3_|REDIS_URL|DATABASE_URL|SMTP_|OIDC_|AGENT_)/.test(k)))
  return { ...base, ...env }
}

/** src/main.ts in a child process, resolved once it says it is listening. */
export async function startMain(dataDir: string, port: number, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: cleanEnv({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, ...env }),
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  const lines = createInterface({ input: proc.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /listening on (\S+)/.exec(line)
      if (m) resolve(m[1]!)
    })
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening`)))
  })
  return { proc, url, exited }
}

/** Runs a command to its end; `timeoutMs` later it is killed (a hang is a failure too). */
export function runToExit(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d) => { stdout += d })
  proc.stderr.on('data', (d) => { stderr += d })
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) => proc.once('exit', (code) => {
    clearTimeout(timer)
    resolve({ code, stdout, stderr })
  }))
}
