// A relay in its own process (so its RSS is its own), with one conversation of `members`
// members. Prints one JSON line: url, doc name and each member's token. An optional third
// argument is JSON relay config overriding the defaults (e.g. lifted flood limits for seeding);
// a fourth, JSON cluster options (CLUSTER=redis): member ids then serve as tokens too, so relays
// in other processes on the same file take them. STORE=postgres: the relay on a scratch
// PostgreSQL database instead of the file (PG_TEST_URL's server, default loopback), dropped on SIGTERM.
import { docName } from '@circlechat/model'
import { startHarness } from '../../sync-server/test/harness.js'
import { startPgHarness } from '../../sync-server/test/harness-pg.js'

const [dataFile, count, config, cluster] = [process.argv[2], Number(process.argv[3] ?? 1), process.argv[4], process.argv[5]]
const relayConfig = config ? JSON.parse(config) : undefined
let info: { url: string; conv: string; members: Array<{ id: string; token: string }> }
let close = async () => {}
if (process.env.STORE === 'postgres') {
  const h = await startPgHarness(relayConfig)
  const members = []
  for (let i = 0; i < count; i++) members.push(await h.seedMember())
  info = { url: h.url, conv: await h.seedConversation(members.map((m) => m.id)), members }
  close = () => h.close()
} else {
  const h = await startHarness({ dataFile, config: relayConfig, cluster: cluster ? JSON.parse(cluster) : undefined, memberIdTokens: cluster !== undefined })
  const members = Array.from({ length: count }, () => h.seedMember())
  info = { url: h.url, conv: h.seedConversation(members.map((m) => m.memberId)), members: members.map((m) => ({ id: m.memberId, token: m.token })) }
}
process.stdout.write(JSON.stringify({ ...info, name: docName.conv(info.conv, 0) }) + '\n')
// A clean exit on SIGTERM, so a CPU profile (CPU_PROF) gets written.
process.on('SIGTERM', () => void close().finally(() => process.exit(0)))
