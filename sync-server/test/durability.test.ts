import { afterEach, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { appendMessage, listMessages } from '@circlechat/model'
import { startHarness, until, watchRelay } from './harness.js'

let child: ChildProcess | null = null
afterEach(() => child?.kill('SIGKILL'))

it('every acknowledged message survives SIGKILL of the server', async () => {
  const dataFile = join(mkdtempSync(join(tmpdir(), 'cc-kill-')), 'kill.db')
  child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/child-relay.ts'), dataFile], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve) => createInterface({ input: child!.stdout! }).once('line', resolve))
  const info = JSON.parse(line) as { url: string; token: string; memberId: string; name: string; conv: string }

  const doc = new Y.Doc()
  const provider = new WebsocketProvider(info.url, info.name, doc, { WebSocketPolyfill: WebSocket as never, disableBc: true, params: { token: info.token } })
  const relay = watchRelay(provider)
  await until(() => provider.synced, 10_000, 'sync')
  const N = 20 // the per-connection burst: more would be refused as a flood
  for (let i = 0; i < N; i++) {
    appendMessage(doc, { author: info.memberId, body: `durable ${i}` })
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5))
  }
  await until(() => relay.acked >= N, 10_000, 'acks')
  child.kill('SIGKILL')
  await new Promise((r) => child!.once('exit', r))
  provider.destroy()

  const h = await startHarness({ dataFile })
  try {
    const restored = listMessages(await h.sync.getDoc(info.name))
    expect(restored.map((m) => m.body)).toEqual(Array.from({ length: N }, (_, i) => `durable ${i}`))
    const indexed = h.db.$client.prepare('SELECT count(*) FROM messages WHERE conversation_id = ?').pluck().get(info.conv)
    expect(indexed).toBe(N)
  } finally {
    await h.close()
  }
})
