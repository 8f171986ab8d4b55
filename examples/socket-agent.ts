// Echo agent over the socket runtime: dials the server, so it needs no open port (PORT is unused).
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/socket-agent.ts
//
// Provision the agent with adapter `socket`. It reconnects on its own if the server restarts.
import { connectSocketAgent } from '@circlechat/agent-sdk'
import { echoReply } from './lib/echo.js'

const token = process.env.CC_TOKEN
const url = process.env.CC_URL ?? 'http://localhost:8080'
if (!token) {
  console.error('socket-agent: set CC_TOKEN to the bot token shown when the agent was provisioned')
  process.exit(1)
}

const agent = connectSocketAgent({
  url,
  token,
  onPacket: (packet) => echoReply(packet),
  onHello: (hello) => console.log(`socket-agent connected as @${hello.handle} (${hello.agentId})`),
  onError: (err) => console.error(`socket-agent: ${err.message}`)
})

const stop = () => {
  agent.close()
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
