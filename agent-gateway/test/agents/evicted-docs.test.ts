import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { WebsocketProvider } from 'y-websocket'
import { addComment, appendMessage, docName, listMessages, markRead, meUnreadOf } from '@circlechat/model'
import { syncClient, whenSynced } from '../../src/test/sync-client.js'
import { FakeAgent, provision, say, waitFor, world, type Provisioned, type World } from './helpers.js'

// The relay unloads docs nobody is connected to (sync-server: docBudgetBytes). Here the budget is
// one byte, so every doc leaves memory ~0.3 s after its last use; the gateway's observers (unread
// tracking, the board feed) and its server-authored edits must work on the reloaded instances.

describe('gateway features on docs evicted and reloaded', () => {
  let w: World
  let hook: FakeAgent
  let scout: Provisioned
  const providers: WebsocketProvider[] = []

  beforeAll(async () => {
    w = await world({ liveDocs: { docBudgetBytes: 1, docGraceMs: 300, sealedIdleMs: 400 } })
    hook = await new FakeAgent((p) => (p.trigger === 'mention' ? `pong ${p.triggerMessageId ?? ''}` : 'HEARTBEAT_OK')).start()
    scout = await provision(w.ada.client, { name: 'scout', handle: 'scout', adapter: 'webhook', callbackUrl: hook.url, channelIds: [w.channelId], scopes: ['channels.read', 'channels.reply', 'tasks.write'] })
  })
  afterAll(async () => {
    for (const p of providers) p.destroy()
    await hook.close()
    await w.server.close()
  })

  const live = (name: string) => w.server.gateway.sync.liveDocs().names.includes(name)
  const evicted = (name: string) => waitFor(() => !live(name), 10_000, `${name} evicted`)
  const channelDoc = () => docName.conv(w.channelId, w.server.gateway.db.$client.prepare('SELECT live_segment FROM conversations WHERE id = ?').pluck().get(w.channelId) as number)
  function open(cookie: string, name: string) {
    const p = syncClient(w.server.url, cookie, name, new Y.Doc())
    providers.push(p)
    return p
  }

  it('keeps unread counts current through a reloaded me doc', async () => {
    const me = docName.me(w.bob.member.id)
    await say(w.ada.client, w.channelId, 'first')
    await evicted(me)
    await evicted(channelDoc())

    const tab = open(w.bob.client.cookie!, me)
    await whenSynced(tab)
    await waitFor(() => meUnreadOf(tab.doc).get(w.channelId)?.count === 1, 10_000, 'count 1')
    // A read marker written over sync on the reloaded instance is seen by the tracker.
    markRead(tab.doc, w.channelId, Date.now())
    await waitFor(() => meUnreadOf(tab.doc).get(w.channelId)?.count === 0, 10_000, 'count 0 after reading')
    tab.destroy()
    await evicted(me)

    await say(w.ada.client, w.channelId, 'second')
    await say(w.ada.client, w.channelId, 'third')
    await evicted(me)
    const again = open(w.bob.client.cookie!, me)
    await whenSynced(again)
    await waitFor(() => meUnreadOf(again.doc).get(w.channelId)?.count === 2, 10_000, 'count 2 in the reloaded doc')
    again.destroy()
  })

  it('wakes an agent mentioned in a reloaded channel and stores its reply there', async () => {
    const conv = channelDoc()
    await evicted(conv)
    const before = hook.packets.length
    // Posted over sync by a person, on the instance the reload made.
    const tab = open(w.ada.client.cookie!, conv)
    await whenSynced(tab)
    const id = appendMessage(tab.doc, { author: w.ada.member.id, body: '@scout status?', mentions: [scout.memberId] })
    const { packet } = await waitFor(() => hook.packets.slice(before).find((p) => p.packet.trigger === 'mention'), 10_000, 'mention packet')
    expect(packet.triggerMessageId).toBe(id)
    await waitFor(() => listMessages(tab.doc).find((m) => m.author === scout.memberId && m.body === `pong ${id}`), 10_000, 'reply in the doc')
    tab.destroy()
    await evicted(conv)

    // Posted over REST into the evicted doc, and answered there by the agent's run.
    const posted = await say(w.bob.client, w.channelId, '@scout again?')
    await waitFor(() => hook.packets.find((p) => p.packet.triggerMessageId === posted.id), 10_000, 'second mention packet')
    await waitFor(async () => listMessages(await w.server.gateway.sync.getDoc(channelDoc())).find((m) => m.body === `pong ${posted.id}`), 10_000, 'second reply stored')
  })

  it('edits and watches a reloaded board', async () => {
    const board = docName.board(w.channelId)
    const created = await w.ada.client.post('/api/tasks', { conversationId: w.channelId, title: 'Recap' })
    expect(created.status).toBe(201)
    const taskId = created.body.task.id as string
    await evicted(board)

    // A REST edit lands in the reloaded doc, and a person's synced copy sees it.
    const patched = await w.ada.client.patch(`/api/tasks/${taskId}`, { status: 'review' })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    await evicted(board)
    const tab = open(w.bob.client.cookie!, board)
    await whenSynced(tab)
    const status = () => (tab.doc.getMap<Y.Map<unknown>>('tasks').get(taskId)?.get('status'))
    expect(status()).toBe('review')

    // A comment written over sync on the reloaded board reaches the board feed: the agent wakes.
    const before = hook.packets.length
    addComment(tab.doc, { taskId, author: w.bob.member.id, body: '@scout numbers?', mentions: [scout.memberId] })
    await waitFor(() => hook.packets.slice(before).find((p) => p.packet.trigger === 'task_comment'), 10_000, 'task_comment packet')
    tab.destroy()
    await evicted(board)
    const listed = await w.ada.client.get(`/api/tasks/${taskId}`)
    expect(listed.body.task.status).toBe('review')
  })
})
