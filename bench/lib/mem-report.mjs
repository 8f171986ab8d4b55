// Preloaded into a server child (`node --expose-gc --import <this>`): for each line on stdin it
// collects garbage and writes one JSON line to fd 3: process.memoryUsage() and V8's heap spaces,
// so a bench can read the heap of a server it did not write (the built one included).
import { createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { getHeapSpaceStatistics } from 'node:v8'

const out = createWriteStream('', { fd: 3 })
createInterface({ input: process.stdin }).on('line', () => {
  globalThis.gc?.()
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]))
  out.write(`${JSON.stringify({ ...process.memoryUsage(), spaces })}\n`)
})
