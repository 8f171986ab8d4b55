// REST post load for post.ts and scale.ts: `inflight` POSTs always outstanding over keep-alive
// connections (one undici Pool per server process, the slots spread round robin over them).
import { Pool } from 'undici'
import { cpuSeconds, percentile } from './stats.js'
import type { Info } from './history.js'

/** Distinct posting members (in-flight requests share them round robin). */
export const POSTERS = 16

/**
 * Posts to the channel for `seconds` after a 1 s warm-up; returns acked posts, posts/s, ack p50/p99
 * and the CPU ms per acked post summed over `pids` (/proc) and of this process.
 */
export async function postLoad(urls: string[], pids: number[], info: Info, inflight: number, seconds: number) {
  const pools = urls.map((url) => new Pool(url, { connections: Math.ceil(inflight / urls.length), pipelining: 1 }))
  const path = `/api/conversations/${info.conversationId}/messages`
  const headersAt = urls.map((url) => info.members.slice(0, POSTERS).map((m) => ({ cookie: `cc_session=${m.cookie}`, origin: url, 'content-type': 'application/json' })))
  let measuring = false
  let stop = false
  const latencies: number[] = []
  let errors = 0
  let n = 0
  const worker = async (slot: number) => {
    const at = slot % urls.length
    while (!stop) {
      const headers = headersAt[at]![(slot + n++) % POSTERS]!
      const t = performance.now()
      const res = await pools[at]!.request({ path, method: 'POST', headers, body: JSON.stringify({ bodyMd: `load post ${n} from slot ${slot}` }) })
      await res.body.dump()
      if (!measuring) continue
      if (res.statusCode === 201) latencies.push(performance.now() - t)
      else errors++
    }
  }
  const serverCpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const workers = Array.from({ length: inflight }, (_, slot) => worker(slot))
  await new Promise((r) => setTimeout(r, 1000)) // warm up: connections, JIT, docs loaded
  measuring = true
  const [server0, own0, t0] = [serverCpu(), process.cpuUsage(), performance.now()]
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const [server1, own1, t1] = [serverCpu(), process.cpuUsage(own0), performance.now()]
  measuring = false
  stop = true
  await Promise.all(workers)
  await Promise.all(pools.map((p) => p.close()))
  const acked = latencies.length
  latencies.sort((a, b) => a - b)
  return {
    acked, errors, perSec: acked / ((t1 - t0) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99),
    serverMs: ((server1 - server0) * 1000) / acked, clientMs: (own1.user + own1.system) / 1000 / acked
  }
}
