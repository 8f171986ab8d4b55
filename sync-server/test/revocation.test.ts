import { afterEach, describe, expect, it } from 'vitest'
import type { WebsocketProvider } from 'y-websocket'
import { closeCode } from '@circlechat/protocol'
import { appendMessage, docName, listMessages, messagesOf } from '@circlechat/model'
import { startHarness, until, synced, rawClient, type Harness } from './harness.js'

let h: Harness
afterEach(async () => { await h.close() })

/** Close codes the relay sent a provider (y-websocket stops reconnecting on 4400–4499). */
function closes(p: WebsocketProvider): number[] {
  const codes: number[] = []
  p.on('closed', (e: { code: number }) => codes.push(e.code))
  return codes
}

const rowsOf = (name: string) => h.db.$client.prepare('SELECT count(*) FROM doc_updates WHERE doc = ?').pluck().get(name) as number

describe('segments beyond the live one', () => {
  it('ACC2: opening conv:<id>:N with N > live_segment is refused at upgrade and creates nothing', async () => {
    h = await startHarness({ segmentSize: 3 })
    const alice = h.seedMember()
    const conv = h.seedConversation([alice.memberId])
    for (const n of [1, 5, 999_999_999]) {
      await expect(rawClient(h.url, docName.conv(conv, n), alice.token)).rejects.toThrow('HTTP 403')
      expect(rowsOf(docName.conv(conv, n))).toBe(0)
    }
    expect(h.db.$client.prepare("SELECT count(*) FROM doc_updates WHERE doc LIKE 'conv:%'").pluck().get()).toBe(0)

    // The live segment opens; sealing it opens the next (server side), which members may then open.
    const seg0 = h.connect(docName.conv(conv, 0), alice.token)
    await synced(seg0)
    for (let i = 0; i < 3; i++) appendMessage(seg0.doc, { author: alice.memberId, body: `m${i}` })
    await until(() => h.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(conv) === 1, 5000, 'seal')
    await until(() => rowsOf(docName.conv(conv, 1)) > 0, 5000, 'next segment created by the server')
    const seg1 = h.connect(docName.conv(conv, 1), alice.token)
    await synced(seg1)
    appendMessage(seg1.doc, { author: alice.memberId, body: 'in the new segment' })
    await until(() => h.db.$client.prepare('SELECT count(*) FROM messages WHERE body = ?').pluck().get('in the new segment') === 1, 5000, 'indexed')
    await expect(rawClient(h.url, docName.conv(conv, 2), alice.token)).rejects.toThrow('HTTP 403')
    expect(rowsOf(docName.conv(conv, 2))).toBe(0)
  })
})

describe('revocation by conversation, member and credential', () => {
  it('revokeConversation closes the thread of a root with no replies, the board and the segment; other docs stay', async () => {
    h = await startHarness()
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const other = h.seedConversation([alice.memberId, bob.memberId])
    const a = h.connect(docName.conv(conv, 0), alice.token)
    await synced(a)
    const root = appendMessage(a.doc, { author: alice.memberId, body: 'no replies yet' })
    await until(() => h.db.$client.prepare('SELECT count(*) FROM messages WHERE id = ?').pluck().get(root) === 1, 5000, 'root indexed')

    const bobThread = h.connect(docName.thread(root), bob.token)
    const bobBoard = h.connect(docName.board(conv), bob.token)
    const bobConv = h.connect(docName.conv(conv, 0), bob.token)
    const bobOther = h.connect(docName.conv(other, 0), bob.token)
    const bobMe = h.connect(docName.me(bob.memberId), bob.token)
    const aliceThread = h.connect(docName.thread(root), alice.token)
    const all = [bobThread, bobBoard, bobConv, bobOther, bobMe, aliceThread]
    await Promise.all(all.map(synced))
    const [tCloses, bCloses, cCloses, oCloses, mCloses, aCloses] = all.map(closes)

    h.db.$client.prepare('DELETE FROM conversation_members WHERE conversation_id = ? AND member_id = ?').run(conv, bob.memberId)
    h.sync.revokeConversation(bob.memberId, conv)
    await until(() => tCloses!.length + bCloses!.length + cCloses!.length === 3, 5000, 'three closes')
    expect([tCloses, bCloses, cCloses]).toEqual([[closeCode.revoked], [closeCode.revoked], [closeCode.revoked]])

    // Alice replies: her thread client gets it, Bob's thread doc does not.
    appendMessage(aliceThread.doc, { author: alice.memberId, body: 'first reply', parentId: root })
    await until(() => h.db.$client.prepare('SELECT count(*) FROM messages WHERE parent_id = ?').pluck().get(root) === 1, 5000, 'reply stored')
    await new Promise((r) => setTimeout(r, 150))
    expect(messagesOf(bobThread.doc).length).toBe(0)
    expect([oCloses, mCloses, aCloses]).toEqual([[], [], []])
    expect(bobOther.wsconnected && bobMe.wsconnected && aliceThread.wsconnected).toBe(true)
  })

  it('revokeMember closes every doc of the member, and only theirs', async () => {
    h = await startHarness()
    const alice = h.seedMember()
    const bob = h.seedMember()
    const conv = h.seedConversation([alice.memberId, bob.memberId])
    const bobs = [h.connect(docName.conv(conv, 0), bob.token), h.connect(docName.me(bob.memberId), bob.token), h.connect(docName.dir(h.workspaceId), bob.token)]
    const a = h.connect(docName.conv(conv, 0), alice.token)
    await Promise.all([...bobs, a].map(synced))
    const codes = bobs.map(closes)
    const aliceCodes = closes(a)
    h.sync.revokeMember(bob.memberId)
    await until(() => codes.every((c) => c.length === 1), 5000, 'bob closed')
    expect(codes.flat()).toEqual([closeCode.unauthorized, closeCode.unauthorized, closeCode.unauthorized])
    appendMessage(a.doc, { author: alice.memberId, body: 'after' })
    await until(() => h.db.$client.prepare('SELECT count(*) FROM messages WHERE body = ?').pluck().get('after') === 1)
    await new Promise((r) => setTimeout(r, 100))
    expect(listMessages(bobs[0]!.doc)).toEqual([])
    expect(aliceCodes).toEqual([])
  })
})
