import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendMessage, docName, listMessages } from '@circlechat/model'
import { startHarness, until, type Harness } from './harness.js'
import { OutboxClient } from './outbox-client.js'

/**
 * A laptop that slept while the conversation went on catches up with one state-vector exchange
 * per open doc: the server's step 1 and step 2 and nothing else, however many updates it
 * missed — never a replay of them one by one (bench/reconnect prints the bytes and time).
 */
describe('catching up after a long sleep', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(async () => {
    await h.close()
  })

  it('300 missed messages over 3 docs arrive in two sync frames per doc', async () => {
    const dan = h.seedMember()
    const carol = h.seedMember()
    const names = [0, 1, 2].map(() => docName.conv(h.seedConversation([dan.memberId, carol.memberId]), 0))
    const clients = names.map((n) => new OutboxClient(h.url, n, dan.token))
    const syncFrames = clients.map(() => 0)
    clients.forEach((c, i) => {
      c.provider.on('status', ({ status }: { status: string }) => {
        const ws = (c.provider as unknown as { ws: { addEventListener: (t: string, f: (e: { data: ArrayBuffer }) => void) => void } | null }).ws
        if (status === 'connected' && ws) ws.addEventListener('message', (e) => void (new Uint8Array(e.data)[0] === 0 && syncFrames[i]!++))
      })
    })
    await until(() => clients.every((c) => c.provider.synced), 5000, 'first sync')
    for (const c of clients) c.offline()

    for (let i = 0; i < 300; i++) {
      await h.sync.transact(names[i % 3]!, { source: 'rest', memberId: carol.memberId }, (doc) => appendMessage(doc, { author: carol.memberId, body: `while you slept ${i}` }))
    }
    syncFrames.fill(0)
    for (const c of clients) c.online()
    await until(() => clients.every((c) => listMessages(c.doc).length === 100), 10_000, 'caught up')
    expect(clients.map((c) => c.outbox.pending)).toEqual([0, 0, 0])
    // Step 1 (the server's state vector) and step 2 (everything missed, as one update).
    expect(syncFrames).toEqual([2, 2, 2])
    for (const c of clients) c.destroy()
  })
})
