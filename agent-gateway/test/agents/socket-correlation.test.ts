import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { dialAgentSocket, messagesOf, provision, say, sleep, waitFor, world, type AgentSocket, type Provisioned, type World } from './helpers.js'

// A reply on /agent-socket counts only on the socket of the agent the packet was sent to: another
// agent that learns a correlation id cannot answer someone else's run.

describe('agent socket correlation', () => {
  let w: World
  let alpha: Provisioned
  let beta: Provisioned
  let a: AgentSocket
  let b: AgentSocket

  beforeAll(async () => {
    w = await world()
    alpha = await provision(w.ada.client, { name: 'Alpha', handle: 'alpha', adapter: 'socket', channelIds: [w.channelId] })
    beta = await provision(w.ada.client, { name: 'Beta', handle: 'beta', adapter: 'socket', channelIds: [w.channelId] })
    a = await dialAgentSocket(w.server.url, alpha.botToken)
    b = await dialAgentSocket(w.server.url, beta.botToken)
  })
  afterAll(async () => {
    a.ws.close()
    b.ws.close()
    await w.server.close()
  })

  it("a reply carrying another agent's correlation id is ignored; the owner's reply is applied", async () => {
    await say(w.bob.client, w.channelId, '@alpha what is the plan?')
    const frame = await waitFor(() => a.frames.find((f) => f.type === 'event'), 10_000, "alpha's packet")
    const post = (body: string) => ({ type: 'reply', correlation_id: frame.correlation_id, actions: [{ type: 'post_message', conversation_id: w.channelId, body_md: body }] })
    b.send(post('Forged by beta in the name of alpha'))
    await sleep(300)
    a.send(post('The real plan from alpha itself'))
    await waitFor(() => w.server.gateway.db.$client.prepare(`SELECT status FROM agent_runs WHERE id = ? AND status != 'running'`).pluck().get(frame.packet!.runId), 10_000, "alpha's run to finish")
    await w.server.agents.queue.idle()

    const bodies = (await messagesOf(w.bob.client, w.channelId)).map((m) => [m.memberId, m.bodyMd])
    expect(bodies).toContainEqual([alpha.memberId, 'The real plan from alpha itself'])
    expect(bodies.filter(([, body]) => body!.startsWith('Forged'))).toEqual([])
    const run = w.server.gateway.db.$client.prepare('SELECT status, reply FROM agent_runs WHERE id = ?').get(frame.packet!.runId) as { status: string; reply: string }
    expect(run.status).toBe('ok')
    expect(run.reply).toContain('The real plan from alpha itself')
    expect(run.reply).not.toContain('Forged')
    // Beta's socket is still fine: ignoring a frame is not a protocol error.
    expect(b.ws.readyState).toBe(WebSocket.OPEN)
  })
})
