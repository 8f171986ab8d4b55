// The one-process server in its own process (so clients in the benchmark do not share its CPU),
// with `members` people in one channel, in `dataDir` (a fresh temporary one when omitted).
// Prints one JSON line: url, conversation id, members. With CLUSTER=redis (REDIS_URL,
// REDIS_PREFIX) it is one of several processes; `join` as a third argument seeds nothing and
// prints only its url (another process on the same dataDir seeded).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../../agent-gateway/src/server.js'
import { mirrorConversation } from '../../agent-gateway/src/services/doc-mirror.js'
import { seedChannel, seedPeople } from './gateway-seed.js'

const count = Number(process.argv[2] ?? 2)
const dataDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'cc-bench-gw-'))
const cluster = process.env.CLUSTER === 'redis' ? { cluster: 'redis' as const, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', redisPrefix: process.env.REDIS_PREFIX } : {}
const server = await startServer({ dataDir, port: 0, host: '127.0.0.1', webRoot: null, ...cluster })
process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)))
if (process.argv[4] === 'join') {
  process.stdout.write(JSON.stringify({ url: server.url }) + '\n')
} else {
  const { workspaceId, members } = await seedPeople(server, count)
  const conversationId = seedChannel(server, workspaceId, 'bench', members.map((m) => m.id))
  await mirrorConversation(server.gateway, conversationId)
  process.stdout.write(JSON.stringify({ url: server.url, conversationId, members }) + '\n')
}
