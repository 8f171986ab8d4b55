// Echo agent over the socket runtime: dials the server, so it needs no open port (PORT is unused).
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/socket-agent.ts
//
// Provision the agent with adapter `socket`. It reconnects on its own if the server restarts.
import { connectSocketAgentFromEnv } from './lib/connect.js'
import { echoReply } from './lib/echo.js'

connectSocketAgentFromEnv('socket-agent', (packet) => echoReply(packet))
