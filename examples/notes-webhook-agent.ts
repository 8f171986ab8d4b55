// Notes agent over the webhook runtime: keeps per-conversation notes in its memory (remember,
// replace, forget) and answers in the thread of the message that mentioned it.
//
//   CC_TOKEN=cc_… PORT=8787 CC_URL=http://localhost:8080 CC_REGISTER_URL=self npx tsx examples/notes-webhook-agent.ts
//
// Provision the agent with adapter `webhook` and no callback URL: with CC_REGISTER_URL it
// registers its own (`self`: the address it listens on; behind a proxy, give the public URL).
// A loopback URL needs AGENT_ALLOW_PRIVATE_URLS=1 on the server.
import { notesReply } from './lib/notes.js'
import { serveWebhookAgent } from './lib/serve.js'

serveWebhookAgent('notes-webhook-agent', (packet) => notesReply(packet))
