// A relay in its own process (so its RSS is its own), with one conversation of `members`
// members. Prints one JSON line: url, doc name and each member's token. An optional third
// argument is JSON relay config overriding the defaults (e.g. lifted flood limits for seeding);
// a fourth, JSON cluster options (CLUSTER=redis): member ids then serve as tokens too, so relays
// in other processes on the same file take them.
import { docName } from '@circlechat/model'
import { startHarness } from '../../sync-server/test/harness.js'

const [dataFile, count, config, cluster] = [process.argv[2], Number(process.argv[3] ?? 1), process.argv[4], process.argv[5]]
const h = await startHarness({ dataFile, config: config ? JSON.parse(config) : undefined, cluster: cluster ? JSON.parse(cluster) : undefined, memberIdTokens: cluster !== undefined })
const members = Array.from({ length: count }, () => h.seedMember())
const conv = h.seedConversation(members.map((m) => m.memberId))
process.stdout.write(JSON.stringify({ url: h.url, conv, name: docName.conv(conv, 0), members: members.map((m) => ({ id: m.memberId, token: m.token })) }) + '\n')
// A clean exit on SIGTERM, so a CPU profile (CPU_PROF) gets written.
process.on('SIGTERM', () => process.exit(0))
