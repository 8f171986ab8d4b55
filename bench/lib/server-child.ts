// The one-process server in a child process, so a benchmark's own clients and fake agents do
// not share its event loop. Prints its URL as the first line of stdout.
import { startServer } from '../../agent-gateway/src/server.js'

console.log = () => {} // invite links and the like; stdout carries only the URL
const server = await startServer({ dataDir: process.argv[2]!, port: 0, host: '127.0.0.1', webRoot: null, agentAllowPrivateUrls: true })
process.stdout.write(`${server.url}\n`)
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
