import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { agentPacketSchema, type AgentPacket } from '@circlechat/protocol'
import { FakeAgent, dialAgentSocket, messagesOf, provision, raw, say, waitFor, world, type AgentFrame, type World } from './helpers.js'

// The packet as agents written against the seed read it (seed/circlechat-readme.txt): they take
// `inbox[0].messages.at(-1)` as the message that woke them and answer in its thread with
// `reply_to: last.parentId ?? last.id`. Real server, real SQLite, a real socket and a real webhook.

/** The seed README's agent: answer the last message of the first conversation, in its thread. */
function seedReply(packet: AgentPacket): unknown {
  if (packet.trigger !== 'mention') return 'HEARTBEAT_OK'
  const conv = packet.inbox[0]!
  const last = conv.messages.at(-1)!
  if (last.memberId === packet.agent.memberId) return 'HEARTBEAT_OK'
  return { actions: [{ type: 'post_message', conversation_id: conv.conversationId, body_md: `Looking into ${last.id} for ${last.memberName}.`, reply_to: last.parentId ?? last.id }] }
}

/** A socket agent on /agent-socket answering with `logic`; records every packet it gets. */
async function socketAgent(url: string, token: string, logic: (p: AgentPacket) => unknown) {
  const s = await dialAgentSocket(url, token)
  const packets: AgentPacket[] = []
  s.ws.on('message', (d) => {
    const frame = JSON.parse(d.toString()) as AgentFrame
    if (!frame.packet) return
    const packet = agentPacketSchema.parse(frame.packet)
    packets.push(packet)
    const out = logic(packet)
    s.send({ type: 'reply', correlation_id: frame.correlation_id, ...(out === 'HEARTBEAT_OK' ? { status: out } : (out as object)) })
  })
  return { ws: s.ws, packets }
}

describe('the seed packet contract', () => {
  let w: World
  const fakes: FakeAgent[] = []
  const sockets: WebSocket[] = []
  const sql = () => w.server.gateway.db.$client

  beforeAll(async () => {
    w = await world()
  })
  afterAll(async () => {
    for (const s of sockets) s.close()
    await Promise.all(fakes.map((f) => f.close()))
    await w.server.close()
  })

  const channel = async (name: string, memberIds: string[]) =>
    (await w.ada.client.post('/api/conversations', { kind: 'channel', name, memberIds: [w.bob.member.id, ...memberIds] })).body.conversation.id as string
  const quiet = { heartbeatIntervalSec: 86_400 }

  async function webhookAgent(handle: string, handler: ConstructorParameters<typeof FakeAgent>[0] = seedReply) {
    const fake = await new FakeAgent(handler).start()
    fakes.push(fake)
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'webhook', callbackUrl: fake.url, ...quiet })
    return { a, packets: () => fake.packets.map((p) => p.packet), fake }
  }
  async function seedSocketAgent(handle: string) {
    const a = await provision(w.ada.client, { name: handle, handle, adapter: 'socket', ...quiet })
    const s = await socketAgent(w.server.url, a.botToken, seedReply)
    sockets.push(s.ws)
    return { a, packets: () => s.packets }
  }
  const mentionPacket = (packets: () => AgentPacket[], messageId: string) =>
    waitFor(() => packets().find((p) => p.trigger === 'mention' && p.triggerMessageId === messageId), 10_000, `the packet for ${messageId}`)
  const answersTo = (memberId: string, messageId: string) =>
    sql().prepare('SELECT id, parent_id FROM messages WHERE author = ? AND body LIKE ?').all(memberId, `Looking into ${messageId} %`) as Array<{ id: string; parent_id: string | null }>

  for (const runtime of ['socket', 'webhook'] as const) {
    it(`${runtime}: mentioned inside a thread, the seed agent's answer lands in that thread`, async () => {
      const { a, packets } = runtime === 'socket' ? await seedSocketAgent(`seed-${runtime}`) : await webhookAgent(`seed-${runtime}`)
      const c = await channel(`seed-${runtime}`, [a.memberId])
      const root = await say(w.bob.client, c, 'Kickoff notes for the launch')
      const context = await say(w.bob.client, c, 'Some context inside the thread', root.id)
      const later = await say(w.bob.client, c, 'An unrelated top-level post')
      const gone = await say(w.bob.client, c, 'A reply that gets deleted', root.id)
      expect((await w.bob.client.delete(`/api/messages/${gone.id}`)).status).toBe(200)
      const ask = await say(w.bob.client, c, `@seed-${runtime} can you take this one?`, root.id)

      const packet = await mentionPacket(packets, ask.id)
      const conv = packet.inbox[0]!
      expect(conv.conversationId).toBe(c)
      // Replies are in the inbox, oldest first, deleted ones out, and the mention is last.
      expect(conv.messages.map((m) => m.id)).toEqual([root.id, context.id, later.id, ask.id])
      expect(conv.messages.at(-1)).toMatchObject({ id: ask.id, parentId: root.id })
      expect(packet.thread).toMatchObject({ conversationId: c, rootMessageId: root.id })
      expect(packet.thread!.messages.map((m) => m.id)).toEqual([root.id, context.id, ask.id])

      await waitFor(() => answersTo(a.memberId, ask.id).length > 0, 10_000, 'the answer')
      expect(answersTo(a.memberId, ask.id)).toEqual([expect.objectContaining({ parent_id: root.id })])
      const inThread = await messagesOf(w.bob.client, c, root.id)
      expect(inThread.find((m) => m.memberId === a.memberId)?.bodyMd).toBe(`Looking into ${ask.id} for ${conv.messages.at(-1)!.memberName}.`)
      expect((await messagesOf(w.bob.client, c)).some((m) => m.memberId === a.memberId)).toBe(false)
    })
  }

  it('a root with replies as the trigger brings its thread; the inbox ends at the root, the newer replies are next news', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { a, packets } = await webhookAgent('rooty', async (p) => {
      if (p.inbox[0]?.messages.at(-1)?.bodyMd === '@rooty warm-up') await gate
      return seedReply(p)
    })
    const c = await channel('rooty', [a.memberId])
    const warm = await say(w.bob.client, c, '@rooty warm-up')
    await mentionPacket(packets, warm.id)
    // While the agent is busy, the question gets replies; the run that follows is for the question.
    const question = await say(w.bob.client, c, '@rooty which region do we launch in?')
    const r1 = await say(w.bob.client, c, 'I vote for the EU', question.id)
    const r2 = await say(w.bob.client, c, 'US first, surely', question.id)
    release()

    const packet = await mentionPacket(packets, question.id)
    expect(packet.inbox[0]!.messages.at(-1)!.id).toBe(question.id)
    expect(packet.thread).toMatchObject({ rootMessageId: question.id })
    expect(packet.thread!.messages.map((m) => m.id)).toEqual([question.id, r1.id, r2.id])
    await waitFor(() => answersTo(a.memberId, question.id)[0]?.parent_id === question.id, 10_000, 'the answer in the thread')
    await w.server.agents.queue.idle()

    // The replies the mention's run did not show count as news for the next heartbeat.
    w.server.agents.queue.enqueue(a.id, { trigger: 'scheduled', conversationId: null })
    await w.server.agents.queue.idle()
    const beat = packets().at(-1)!
    expect(beat.trigger).toBe('scheduled')
    expect(beat.triggerConversationId).toBeNull()
    expect(beat.inbox.map((e) => e.conversationId)).toEqual([c])
    expect(beat.inbox[0]!.messages.map((m) => m.id)).toEqual(expect.arrayContaining([r1.id, r2.id]))
  })

  it('prose answering a scheduled heartbeat (no trigger conversation) goes to the first conversation of its inbox', async () => {
    const { a, fake } = await webhookAgent('prosy', (p) => (p.trigger === 'scheduled' ? 'Morning all, nothing blocking from me.' : 'HEARTBEAT_OK'))
    const c = await channel('prosy', [a.memberId])
    // The post wakes the agent (channel_post); its silent answer marks it seen. A reply in a
    // thread the agent is not in wakes nobody, so it is news the heartbeat brings.
    const root = await say(w.bob.client, c, 'Standup in five')
    await waitFor(() => fake.packets.find((p) => p.packet.trigger === 'channel_post'), 10_000, 'the channel_post run')
    await w.server.agents.queue.idle()
    await say(w.bob.client, c, 'Moved to ten past', root.id)
    await w.server.agents.queue.idle()
    w.server.agents.queue.enqueue(a.id, { trigger: 'scheduled', conversationId: null })
    const beat = await waitFor(() => fake.packets.find((p) => p.packet.trigger === 'scheduled')?.packet, 10_000, 'the heartbeat')
    expect(beat.triggerConversationId).toBeNull()
    expect(beat.inbox[0]!.conversationId).toBe(c)
    const posted = await waitFor(() => sql().prepare('SELECT conversation_id FROM messages WHERE author = ? AND body = ?').pluck().get(a.memberId, 'Morning all, nothing blocking from me.'), 10_000, 'the prose posted')
    expect(posted).toBe(c)
  })

  it('a deleted root leaves the thread: its replies stay, still naming it', async () => {
    const { a, packets } = await webhookAgent('orphan')
    const c = await channel('orphan', [a.memberId])
    const root = await say(w.bob.client, c, 'A root that will be deleted')
    const reply = await say(w.bob.client, c, 'A reply that outlives its root', root.id)
    expect((await w.bob.client.delete(`/api/messages/${root.id}`)).status).toBe(200)
    const ask = await say(w.bob.client, c, '@orphan what was this about?', root.id)
    const packet = await mentionPacket(packets, ask.id)
    expect(packet.inbox[0]!.messages.map((m) => m.id)).toEqual([reply.id, ask.id])
    expect(packet.thread).toMatchObject({ rootMessageId: root.id })
    expect(packet.thread!.messages.map((m) => [m.id, m.parentId])).toEqual([[reply.id, root.id], [ask.id, root.id]])
  })

  it('the Test button reaches the agent with its conversations and their history', async () => {
    const { a, packets } = await webhookAgent('tested')
    const c1 = await channel('tested-one', [a.memberId])
    const c2 = await channel('tested-two', [a.memberId])
    const empty = await channel('tested-empty', [a.memberId])
    const first = await say(w.bob.client, c1, 'Older news in the first channel')
    const reply = await say(w.bob.client, c1, 'A reply in its thread', first.id)
    const gone = await say(w.bob.client, c2, 'Deleted before the test')
    const kept = await say(w.bob.client, c2, 'The freshest post of all')
    expect((await w.bob.client.delete(`/api/messages/${gone.id}`)).status).toBe(200)
    await w.server.agents.queue.idle()

    expect((await w.ada.client.post(`/api/agents/${a.id}/test`)).status).toBe(202)
    const packet = (await waitFor(() => packets().find((p) => p.trigger === 'test'), 10_000, 'the test packet'))
    expect(packet.triggerConversationId).toBeNull()
    expect(packet.triggerMessageId).toBeNull()
    // Freshest conversation first; conversations with nothing to read are left out.
    expect(packet.inbox.map((e) => e.conversationId)).toEqual([c2, c1])
    expect(packet.inbox.map((e) => e.conversationId)).not.toContain(empty)
    expect(packet.inbox[0]!.messages.map((m) => m.id)).toEqual([kept.id])
    expect(packet.inbox[1]!.messages.map((m) => m.id)).toEqual([first.id, reply.id])
    expect(packet.inbox[0]!.messages.at(-1)!.bodyMd).toBe('The freshest post of all')
  })

  it('@everyone reaches the agent and its packet lists who it reached; the document keeps the keyword', async () => {
    const { a, packets } = await webhookAgent('crowd')
    const c = await channel('crowd', [a.memberId])
    const m = await say(w.bob.client, c, '@everyone standup in five')
    const packet = await mentionPacket(packets, m.id)
    const mentions = packet.inbox[0]!.messages.at(-1)!.mentions
    expect(mentions[0]).toBe('everyone')
    expect([...mentions].sort()).toEqual(['everyone', a.memberId, w.ada.member.id].sort())
    expect(JSON.parse(sql().prepare('SELECT mentions FROM messages WHERE id = ?').pluck().get(m.id) as string)).toEqual(['everyone'])
  })

  it('previousRunFailure says why the last finished run failed, and is gone after a good one', async () => {
    const { a, packets } = await webhookAgent('flaky', (p) => (p.inbox[0]?.messages.at(-1)?.bodyMd.includes('break') ? raw(502, 'upstream down') : seedReply(p)))
    const c = await channel('flaky', [a.memberId])
    const broken = await say(w.bob.client, c, '@flaky break please')
    await mentionPacket(packets, broken.id)
    await w.server.agents.queue.idle()
    const failed = sql().prepare(`SELECT status, finished_at FROM agent_runs WHERE agent_id = ? ORDER BY created_at DESC LIMIT 1`).get(a.id) as { status: string; finished_at: number }
    expect(failed.status).toBe('error')
    expect((await mentionPacket(packets, broken.id)).previousRunFailure).toBeNull()

    const next = await say(w.bob.client, c, '@flaky are you back?')
    const after = await mentionPacket(packets, next.id)
    expect(after.previousRunFailure).toEqual({ errorText: expect.stringContaining('502'), finishedAt: new Date(failed.finished_at).toISOString() })
    await w.server.agents.queue.idle()

    const third = await say(w.bob.client, c, '@flaky and now?')
    expect((await mentionPacket(packets, third.id)).previousRunFailure).toBeNull()
  })
})
