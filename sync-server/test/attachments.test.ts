import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { appendMessage, deleteMessage, docName, findMessage, newId } from '@circlechat/model'
import { startHarness, until, synced, watchRelay, rawClient, forgeUpdate, storedUpdates, seedFile as seedFileFor, refsOf as refsOfFile, type Harness } from './harness.js'

let h: Harness
beforeEach(async () => { h = await startHarness() })
afterEach(async () => { await h.close() })

const seedFile = (owner: string, name?: string) => seedFileFor(h, owner, name)
const refsOf = (key: string) => refsOfFile(h, key)

describe('attachments (OWN10)', () => {
  let alice: ReturnType<Harness['seedMember']>
  let bob: ReturnType<Harness['seedMember']>
  let conv: string
  let name: string

  beforeEach(() => {
    alice = h.seedMember()
    bob = h.seedMember()
    conv = h.seedConversation([alice.memberId, bob.memberId])
    name = docName.conv(conv, 0)
  })

  async function expectRefused(edit: (d: Y.Doc) => void, reason: string) {
    const socket = await rawClient(h.url, name, bob.token)
    const update = await forgeUpdate(h, name, edit) // opens the doc, so its first state is stored by now
    const before = storedUpdates(h, name)
    socket.sendUpdate(update)
    await until(() => socket.rejects.length > 0, 5000, 'rejection')
    expect(socket.rejects[0]!.reason).toBe(reason)
    expect(storedUpdates(h, name)).toBe(before)
    socket.close()
  }

  it('a member attaches their own upload; the reference is recorded, and a deleted message drops it', async () => {
    const file = seedFile(bob.memberId)
    const b = h.connect(name, bob.token)
    const relay = watchRelay(b)
    await synced(b)
    const id = appendMessage(b.doc, { author: bob.memberId, body: 'see attached', attachments: [file] })
    await until(() => refsOf(file.key).length === 1, 5000, 'reference')
    expect(refsOf(file.key)).toEqual([{ ref: id, scope: conv, deleted: 0 }])
    deleteMessage(b.doc, id)
    await until(() => (refsOf(file.key)[0] as { deleted: number }).deleted === 1, 5000, 'hidden')
    expect(relay.rejects).toEqual([])
    b.destroy()
  })

  it('editing an attachment away removes its reference', async () => {
    const [one, two] = [seedFile(bob.memberId), seedFile(bob.memberId)]
    const b = h.connect(name, bob.token)
    await synced(b)
    const id = appendMessage(b.doc, { author: bob.memberId, body: 'two files', attachments: [one!, two!] })
    await until(() => refsOf(two!.key).length === 1)
    findMessage(b.doc, id)!.set('attachments', [one!])
    await until(() => refsOf(two!.key).length === 0, 5000, 'unreferenced')
    expect(refsOf(one!.key)).toHaveLength(1)
    b.destroy()
  })

  it("someone else's key is refused, in a new message and in an edit", async () => {
    const hers = seedFile(alice.memberId)
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: 'mine now', attachments: [hers] }), 'notAuthor')
    const b = h.connect(name, bob.token)
    await synced(b)
    const id = appendMessage(b.doc, { author: bob.memberId, body: 'plain' })
    await until(() => (h.db.$client.prepare('SELECT count(*) FROM messages WHERE id = ?').pluck().get(id) as number) === 1)
    b.destroy()
    await expectRefused((d) => findMessage(d, id)!.set('attachments', [hers]), 'notAuthor')
    expect(refsOf(hers.key)).toEqual([])
  })

  it('an unknown key, or an attachment that misstates its upload, is refused', async () => {
    const mine = seedFile(bob.memberId)
    const made = { key: newId('file'), name: 'x', contentType: 'text/plain', size: 1, url: '/files/f_x' }
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: 'x', attachments: [made] }), 'notAuthor')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: 'x', attachments: [{ ...mine, url: 'https://evil.example/x' }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: 'x', attachments: [{ ...mine, contentType: 'image/png' }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: 'x', attachments: [{ ...mine, size: 1 }] }), 'invalidField')
  })

  it('a voice message carries its upload\'s length and waveform, unchanged and bounded', async () => {
    const voice = { durationMs: 2100, peaks: Array.from({ length: 64 }, (_, i) => i % 101) }
    const file = { ...seedFile(bob.memberId, 'voice.webm'), contentType: 'audio/webm' }
    h.db.$client.prepare("UPDATE files SET content_type = 'audio/webm', voice = ? WHERE key = ?").run(JSON.stringify(voice), file.key)
    // Waveforms that are not the recorded one, or are not waveforms, and a voice on a plain file.
    const plain = seedFile(bob.memberId)
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: '', attachments: [{ ...file, voice: { ...voice, peaks: voice.peaks.map(() => 100) } }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: '', attachments: [{ ...file, voice: { ...voice, durationMs: 99 } }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: '', attachments: [{ ...file, voice: { durationMs: 2100, peaks: Array(5000).fill(1) } }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: '', attachments: [{ ...plain, voice }] }), 'invalidField')
    await expectRefused((d) => appendMessage(d, { author: bob.memberId, body: '', attachments: [file] }), 'invalidField')
    const b = h.connect(name, bob.token)
    const relay = watchRelay(b)
    await synced(b)
    const id = appendMessage(b.doc, { author: bob.memberId, body: '', attachments: [{ ...file, voice }] })
    await until(() => refsOf(file.key).length === 1, 5000, 'reference')
    const row = h.db.$client.prepare('SELECT attachments FROM messages WHERE id = ?').pluck().get(id) as string
    expect(JSON.parse(row)).toEqual([{ ...file, voice }])
    expect(relay.rejects).toEqual([])
    b.destroy()
  })
})
