import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { appendMessage, deleteMessage, editMessage, findMessage, messagesOf, metaOf, reactionKey, REACTIONS, readMessage, uniqueMessages } from './messages.js'
import { messageDocViolations, snapshotMessageDoc, type MessageWriteContext } from './message-rules.js'
import { meDocViolations, snapshotMeDoc } from './me-rules.js'
import { newId } from '../ids.js'

/** The invariant checker is the property suite's oracle: each rule must catch what it names. */
const alice = newId('member')
const bob = newId('member')
const now = Date.now()
const ctx = (sender: string, isAdmin = false): MessageWriteContext & { acceptsNewMessages: boolean } => ({ sender, isAdmin, now, joinedAt: now - 86_400_000, threadRoot: null, acceptsNewMessages: true })

function world() {
  const doc = new Y.Doc()
  metaOf(doc).set('conversationId', newId('conversation'))
  const id = appendMessage(doc, { author: alice, body: 'hello', createdAt: now - 1000 })
  return { doc, id }
}
function violations(sender: string, edit: (doc: Y.Doc, id: string) => void, isAdmin = false) {
  const { doc, id } = world()
  const before = snapshotMessageDoc(doc)
  edit(doc, id)
  return messageDocViolations(before, doc, ctx(sender, isAdmin))
}

describe('message invariants', () => {
  it('accept what members may do', () => {
    expect(violations(alice, (d, id) => editMessage(d, id, 'edited', []))).toEqual([])
    expect(violations(alice, (d, id) => deleteMessage(d, id))).toEqual([])
    expect(violations(bob, (d, id) => deleteMessage(d, id), true)).toEqual([])
    expect(violations(bob, (d) => appendMessage(d, { author: bob, body: 'hi' }))).toEqual([])
    expect(violations(bob, (d, id) => (findMessage(d, id)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(bob, '👍'), true))).toEqual([])
  })

  it('catch each broken rule', () => {
    const cases: Array<[string, (d: Y.Doc, id: string) => void, boolean?]> = [
      ['authored by its sender', (d) => appendMessage(d, { author: alice, body: 'x' })],
      ['createdAt', (d) => appendMessage(d, { author: bob, body: 'x', createdAt: now + 86_400_000 })],
      ['createdAt', (d) => appendMessage(d, { author: bob, body: 'x', createdAt: 0 })],
      ['body is text', (d) => appendMessage(d, { author: bob, body: 'x'.repeat(40_001) })],
      ['mentions', (d) => appendMessage(d, { author: bob, body: 'x', mentions: Array.from({ length: 101 }, () => 'm') })],
      ['only the author changes the body', (d, id) => findMessage(d, id)!.set('body', 'pwned')],
      ['never changes', (d, id) => findMessage(d, id)!.set('createdAt', 1)],
      ['never changes', (d, id) => findMessage(d, id)!.set('author', bob)],
      ['written by the server', (d, id) => findMessage(d, id)!.set('threadCount', 3)],
      ['stays empty', (d, id) => findMessage(d, id)!.set('deleted', true)],
      ['their own reactions', (d, id) => (findMessage(d, id)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(alice, '👍'), true)],
      ['malformed', (d, id) => (findMessage(d, id)!.get(REACTIONS) as Y.Map<unknown>).set(reactionKey(bob, '👍'), 'yes')],
      ['reactions map never changes', (d, id) => findMessage(d, id)!.set(REACTIONS, new Y.Map())],
      ['nested type', (d, id) => findMessage(d, id)!.set('evil', new Y.Map())],
      ['removed', (d) => messagesOf(d).delete(0, 1)],
      ['not unique', (d, id) => appendMessage(d, { id, author: bob, body: 'dup' })],
      ['meta is written by the server', (d) => metaOf(d).set('sealed', true)],
      ['unknown root', (d) => d.getMap('other').set('x', 1)]
    ]
    for (const [expected, edit] of cases) {
      const found = violations(bob, edit)
      expect(found.join(' | '), expected).toContain(expected)
    }
    expect(violations(bob, (d) => appendMessage(d, { author: bob, body: 'x' }), false).length).toBe(0)
    const { doc } = world()
    const before = snapshotMessageDoc(doc)
    appendMessage(doc, { author: bob, body: 'late' })
    expect(messageDocViolations(before, doc, { ...ctx(bob), acceptsNewMessages: false })).toContain('this segment takes no new messages')
    // Moderation cannot be undone, even by the author.
    const moderated = world()
    deleteMessage(moderated.doc, moderated.id)
    const deleted = snapshotMessageDoc(moderated.doc)
    moderated.doc.transact(() => {
      findMessage(moderated.doc, moderated.id)!.delete('deleted')
      findMessage(moderated.doc, moderated.id)!.set('body', 'back')
    })
    expect(messageDocViolations(deleted, moderated.doc, ctx(alice))).toContain('deleted stays deleted')
  })

  it('me docs: only member keys, typed and bounded', () => {
    const doc = new Y.Doc()
    doc.getMap('unread').set(newId('conversation'), { count: 1, mentions: 0 })
    const before = snapshotMeDoc(doc)
    doc.getMap('reads').set(newId('conversation'), now)
    expect(meDocViolations(before, doc, now)).toEqual([])
    doc.getMap('reads').set(newId('conversation'), now + 10 * 86_400_000)
    doc.getMap('drafts').set('not-a-conversation', 'x')
    doc.getMap('unread').clear()
    expect(meDocViolations(before, doc, now)).toEqual(['"unread" is written by the server', 'bad value in "reads"', '"drafts" is keyed by conversation id'])
  })

  it('views keep the first message of a duplicated id', () => {
    const { doc, id } = world()
    appendMessage(doc, { id, author: bob, body: 'dup' })
    const list = uniqueMessages(messagesOf(doc).toArray().map(readMessage))
    expect(list.map((m) => m.body)).toEqual(['hello'])
  })
})
