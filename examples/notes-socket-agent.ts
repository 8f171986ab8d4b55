// Notes agent over the socket runtime: keeps per-conversation notes in its memory (remember,
// replace, forget) and answers in the thread of the message that mentioned it.
//
//   CC_TOKEN=cc_… CC_URL=http://localhost:8080 npx tsx examples/notes-socket-agent.ts
//
// Provision the agent with adapter `socket`.
import { connectSocketAgentFromEnv } from './lib/connect.js'
import { notesReply } from './lib/notes.js'

connectSocketAgentFromEnv('notes-socket-agent', (packet) => notesReply(packet))
