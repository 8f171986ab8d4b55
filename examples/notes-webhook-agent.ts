// Notes agent over the webhook runtime: keeps per-conversation notes in its memory (remember,
// replace, forget) and answers in the thread of the message that mentioned it.
//
//   CC_TOKEN=cc_… PORT=8787 CC_URL=http://localhost:8080 npx tsx examples/notes-webhook-agent.ts
//
// Provision the agent with adapter `webhook`, with callbackUrl http://<this host>:8787 or
// without one and then POST /api/agents/<id>/register (a loopback URL needs
// AGENT_ALLOW_PRIVATE_URLS=1 on the server).
import { notesReply } from './lib/notes.js'
import { serveWebhookAgent } from './lib/serve.js'

serveWebhookAgent('notes-webhook-agent', (packet) => notesReply(packet))
