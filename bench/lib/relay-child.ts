// A relay in its own process (so its RSS is its own), with one conversation of `members`
// members. Prints one JSON line: url, doc name and each member's token. An optional third
// argument is JSON relay config overriding the defaults (e.g. lifted flood limits for seeding).
import { docName } from '@circlechat/model'
import { startHarness } from '../../sync-server/test/harness.js'

const [dataFile, count, config] = [process.argv[2], Number(process.argv[3] ?? 1), process.argv[4]]
const h = await startHarness({ dataFile, config: config ? JSON.parse(config) : undefined })
const members = Array.from({ length: count }, () => h.seedMember())
const conv = h.seedConversation(members.map((m) => m.memberId))
process.stdout.write(JSON.stringify({ url: h.url, conv, name: docName.conv(conv, 0), members: members.map((m) => ({ id: m.memberId, token: m.token })) }) + '\n')
// A clean exit on SIGTERM, so a CPU profile (CPU_PROF) gets written.
process.on('SIGTERM', () => process.exit(0))
