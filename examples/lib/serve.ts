import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AgentApiClient, createWebhookHandler } from '@circlechat/agent-sdk'
import type { PacketHandler } from '@circlechat/agent-sdk'

/**
 * Runs a webhook agent from env: CC_TOKEN (checks x-cc-signature), PORT (0 picks a free one),
 * HOST (default loopback; 0.0.0.0 in a container), CC_URL (optional: confirms the token),
 * CC_REGISTER_URL (optional: registers this callback URL, `self` for the one it listens on).
 * Prints `listening on <url>` once ready; tests wait for that line.
 */
export function serveWebhookAgent(name: string, handler: PacketHandler): Server {
  const token = process.env.CC_TOKEN
  if (!token) console.warn(`${name}: CC_TOKEN is not set, so packet signatures are not checked`)
  const server = createServer(createWebhookHandler(handler, { token, onError: (e) => console.error(`${name}:`, e) }))
  const host = process.env.HOST ?? '127.0.0.1'
  const api = process.env.CC_URL && token ? new AgentApiClient({ baseUrl: process.env.CC_URL, token }) : null
  server.listen(Number(process.env.PORT ?? 8787), host, () => {
    const { port } = server.address() as AddressInfo
    const url = `http://${host}:${port}`
    console.log(`${name} listening on ${url} (callback URL for the agent)`)
    // CC_REGISTER_URL: tell the server where to call us (`self`: the address we listen on).
    const register = process.env.CC_REGISTER_URL
    if (api && register) {
      api.register(register === 'self' ? url : register)
        .then((r) => console.log(`${name} registered ${r.callbackUrl}`))
        .catch((e: Error) => console.error(`${name}: could not register: ${e.message}`))
    }
  })
  if (api) {
    api.me()
      .then((me) => console.log(`${name}: token accepted, I am @${me.handle}`))
      .catch((e: Error) => console.warn(`${name}: could not check the token against ${process.env.CC_URL}: ${e.message}`))
  }
  const stop = () => server.close(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return server
}
