import { afterEach, describe, expect, it } from 'vitest'
import { docName, meConversationsOf, putConversation, readSegmentMeta } from '@circlechat/model'
import { startHarness, until, synced, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

describe('a seal cut short by a crash is repaired', () => {
  it('members\' summaries follow SQLite\'s live segment on attach, and the old segment is sealed on load', async () => {
    h = await startHarness({ segmentSize: 1000 })
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    const me = docName.me(alice.memberId)
    await h.sync.transact(me, { source: 'server', reason: 'test' }, (d) => putConversation(d, { id: conv, kind: 'channel', name: 'general', topic: '', isPrivate: false, memberIds: [alice.memberId], liveSegment: 0 }))
    // What a kill between bumping live_segment and the rest of the seal leaves behind.
    h.db.$client.prepare('UPDATE conversations SET live_segment = 1 WHERE id = ?').run(conv)

    const p = h.connect(me, alice.token)
    await synced(p)
    await until(() => meConversationsOf(p.doc).get(conv)?.liveSegment === 1, 5000, 'summary repaired')
    const old = await h.sync.getDoc(docName.conv(conv, 0))
    await until(() => readSegmentMeta(old)?.sealed === true, 5000, 'old segment sealed')
    expect(readSegmentMeta(old)).toMatchObject({ conversationId: conv, segment: 0, sealed: true })
  })
})
