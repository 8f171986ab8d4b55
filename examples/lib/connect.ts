import { connectSocketAgent } from '@circlechat/agent-sdk'
import type { PacketHandler } from '@circlechat/agent-sdk'

/**
 * Runs a socket agent from env: CC_TOKEN (required), CC_URL (default http://localhost:8080).
 * Prints `connected as @<handle> (<agentId>)` once the server says hello; tests wait for it.
 * Reconnects on its own if the server restarts.
 */
export function connectSocketAgentFromEnv(name: string, handler: PacketHandler): void {
  const token = process.env.CC_TOKEN
  const url = process.env.CC_URL ?? 'http://localhost:8080'
  if (!token) {
    console.error(`${name}: set CC_TOKEN to the bot token shown when the agent was provisioned`)
    process.exit(1)
  }
  const agent = connectSocketAgent({
    url,
    token,
    onPacket: handler,
    onHello: (hello) => console.log(`${name} connected as @${hello.handle} (${hello.agentId})`),
    onError: (err) => console.error(`${name}: ${err.message}`)
  })
  const stop = () => {
    agent.close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
