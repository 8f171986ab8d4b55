// The one-process server in its own process (so clients in the benchmark do not share its CPU),
// with `members` people in one channel, in `dataDir` (a fresh temporary one when omitted).
// Prints one JSON line: url, conversation id, members.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../../agent-gateway/src/server.js'
import { mirrorConversation } from '../../agent-gateway/src/services/doc-mirror.js'
import { seedChannel, seedPeople } from './gateway-seed.js'

const count = Number(process.argv[2] ?? 2)
const dataDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'cc-bench-gw-'))
const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null })
const { workspaceId, members } = await seedPeople(server, count)
const conversationId = seedChannel(server, workspaceId, 'bench', members.map((m) => m.id))
await mirrorConversation(server.gateway, conversationId)
process.stdout.write(JSON.stringify({ url: server.url, conversationId, members }) + '\n')
process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)))
