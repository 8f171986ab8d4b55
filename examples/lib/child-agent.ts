import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { agentPacketSchema } from '@circlechat/agent-sdk'
import type { AgentPacket } from '@circlechat/agent-sdk'

// Test support: runs an example as a real child process and talks to it the way the server does.

const examplesDir = fileURLToPath(new URL('..', import.meta.url))
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli')

export interface RunningAgent {
  /** The first capture of the ready pattern: by default the URL of the `listening on <url>` line. */
  url: string | undefined
  output(): string
  stop(): Promise<void>
}

/** Starts `file` (.ts through tsx, .py through python3) and waits until stdout matches `ready`. */
export async function startAgent(file: string, env: Record<string, string>, ready = /listening on (http:\/\/\S+)/): Promise<RunningAgent> {
  const cmd = file.endsWith('.py') ? ['python3', file] : [process.execPath, tsxCli, file]
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: examplesDir, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${out}`)), 20_000)
    const check = () => {
      const m = out.match(ready)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited with ${code}:\n${out}`))
    })
  })
  return { url: match[1], output: () => out, stop: () => stop(child) }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/** POSTs a packet exactly as the gateway does: validated, signed, to /heartbeat or /event. */
export async function deliver(url: string, packet: AgentPacket, token: string, opts: { signWith?: string } = {}): Promise<Response> {
  agentPacketSchema.parse(packet)
  const body = JSON.stringify(packet)
  const path = packet.trigger === 'scheduled' || packet.trigger === 'ambient' ? '/heartbeat' : '/event'
  const signature = `sha256=${createHmac('sha256', opts.signWith ?? token).update(body).digest('hex')}`
  return fetch(url + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-cc-agent': packet.agent.id,
      'x-cc-run': packet.runId,
      'x-cc-signature': signature
    },
    body
  })
}
