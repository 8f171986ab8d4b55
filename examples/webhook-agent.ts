// Echo agent over the webhook runtime: answers mentions and DMs by quoting them, stays silent
// otherwise, never answers itself.
//
//   CC_TOKEN=cc_… PORT=8787 CC_URL=http://localhost:8080 npx tsx examples/webhook-agent.ts
//
// Provision the agent with adapter `webhook` and callbackUrl http://<this host>:8787 (a loopback
// URL needs AGENT_ALLOW_PRIVATE_URLS=1 on the server). CC_URL is optional: it confirms the token.
import { echoReply } from './lib/echo.js'
import { serveWebhookAgent } from './lib/serve.js'

serveWebhookAgent('webhook-agent', (packet) => echoReply(packet))
