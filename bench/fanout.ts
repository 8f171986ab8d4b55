// bench/fanout: N clients on one conversation, ten of them posting at a steady rate; prints the
// send→receive latency at every other client (p50/p99), the relay's CPU per message and its RSS.
// STORE=postgres: the relay on a scratch PostgreSQL database (PostgreSQL's own CPU not counted).
// Run: pnpm --filter @circlechat/bench exec tsx fanout.ts [clients...]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { once } from 'node:events'
import { cpuSeconds, percentile, fmt, rssMiB, startRelayChild } from './lib/stats.js'
import { close, latencies, MESSAGES, openReceivers, openSenders, post, RATE, SENDERS } from './lib/fanout-clients.js'

interface Info { url: string; name: string; members: Array<{ id: string; token: string }> }

async function run(clients: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'cc-fanout-')), 'f.db')
  const { child, info } = await startRelayChild<Info>(file, clients)
  const rssIdle = rssMiB(child.pid!)
  const receivers = await openReceivers(info.name, info.members.slice(SENDERS).map((m) => ({ url: info.url, token: m.token })))
  const senders = await openSenders(info.name, info.members.slice(0, SENDERS).map((m) => ({ url: info.url, token: m.token, id: m.id })))
  const cpu0 = cpuSeconds(child.pid!)
  const sent = await post(senders, receivers)
  const cpuMs = ((cpuSeconds(child.pid!) - cpu0) * 1000) / MESSAGES
  const rssLoaded = rssMiB(child.pid!)
  const all = latencies(receivers, sent)
  const expected = MESSAGES * (clients - SENDERS)
  console.log(`fanout ${process.env.STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'} ${clients} clients, ${MESSAGES} messages at ${RATE}/s: delivered ${all.length}/${expected}, p50 ${fmt(percentile(all, 50))}, p99 ${fmt(percentile(all, 99))}, max ${fmt(all.at(-1) ?? NaN)}; relay CPU ${cpuMs.toFixed(2)} ms/message; relay RSS ${rssIdle.toFixed(0)} MiB idle → ${rssLoaded.toFixed(0)} MiB with clients`)
  close(senders, receivers)
  // SIGTERM: a PostgreSQL relay drops its scratch database on the way out.
  child.kill('SIGTERM')
  await once(child, 'exit')
  rmSync(dirname(file), { recursive: true, force: true })
}

const sizes = process.argv.slice(2).map(Number)
for (const n of sizes.length ? sizes : [100, 500]) await run(n)
process.exit(0)
