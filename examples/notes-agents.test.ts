import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messagesOf, provision, say, waitFor, world } from '../agent-gateway/test/agents/helpers.js'
import type { Provisioned, World } from '../agent-gateway/test/agents/helpers.js'
import { startAgent } from './lib/child-agent.js'
import type { RunningAgent } from './lib/child-agent.js'

// The notes examples as real processes against the real server, one per runtime: mentioned inside
// a thread, they answer in that thread, and remember / replace / forget go through memory actions
// (in a packet's reply, or for the peer over the agent REST API).

describe.each([
  { file: 'notes-webhook-agent.ts', adapter: 'webhook' as const },
  { file: 'notes-socket-agent.ts', adapter: 'socket' as const },
  { file: 'notes-peer-agent.ts', adapter: 'peer' as const }
])('$file against the server', ({ file, adapter }) => {
  let w: World
  let agent: Provisioned
  let child: RunningAgent

  beforeAll(async () => {
    w = await world()
    agent = await provision(w.ada.client, { name: 'Notes', handle: 'notes', adapter, channelIds: [w.channelId] })
    const env = { CC_TOKEN: agent.botToken, CC_URL: w.server.url }
    if (adapter === 'webhook') {
      // Provisioned without a URL, then registered by the agent itself: the guide's order.
      child = await startAgent(file, { ...env, CC_REGISTER_URL: 'self' }, /registered (http:\/\/\S+)/)
      expect((await w.ada.client.get(`/api/agents/${agent.id}`)).body.agent.callbackUrl).toBe(child.url)
    } else if (adapter === 'socket') {
      child = await startAgent(file, env, /connected as @(\S+)/)
    } else {
      // A peer is ready once it has synced the channel: it sees only what arrives after that.
      child = await startAgent(file, env, new RegExp(`synced (${w.channelId})`))
    }
  })
  afterAll(async () => {
    await child?.stop()
    await w?.server.close()
  })

  const notes = async () => {
    const res = await fetch(`${w.server.url}/api/agent-api/memory?key=notes&scope=conversation&scopeId=${w.channelId}`, { headers: { authorization: `Bearer ${agent.botToken}` } })
    const body = (await res.json()) as { memory: Array<{ value: unknown }> }
    return body.memory[0]?.value
  }
  const answerTo = (rootId: string, text: string) =>
    waitFor(async () => (await messagesOf(w.bob.client, w.channelId, rootId)).find((m) => m.memberId === agent.memberId && m.bodyMd.includes(text)), 15_000, `"${text}" in the thread`)

  it('answers in the thread it was mentioned in, and appends, lists, replaces and forgets notes', async () => {
    const root = await say(w.bob.client, w.channelId, 'Planning the offsite')
    await say(w.bob.client, w.channelId, '@notes remember book the venue', root.id)
    await answerTo(root.id, 'Noted: _book the venue_')
    expect(await notes()).toBe('book the venue')

    await say(w.bob.client, w.channelId, '@notes remember send the invites', root.id)
    await answerTo(root.id, 'Noted: _send the invites_')
    expect(await notes()).toBe('book the venue\nsend the invites')

    await say(w.bob.client, w.channelId, '@notes what do we have?', root.id)
    await answerTo(root.id, 'Notes so far:\n\nbook the venue\nsend the invites')

    await say(w.bob.client, w.channelId, '@notes replace only the venue', root.id)
    await answerTo(root.id, 'Notes replaced with')
    expect(await notes()).toBe('only the venue')

    await say(w.bob.client, w.channelId, '@notes forget', root.id)
    await answerTo(root.id, 'Forgotten.')
    expect(await notes()).toBeUndefined()
    // Nothing it said went to the channel itself.
    expect((await messagesOf(w.bob.client, w.channelId)).filter((m) => m.memberId === agent.memberId)).toEqual([])
  })

  it('opens a thread under a top-level mention', async () => {
    const top = await say(w.bob.client, w.channelId, '@notes what is on the list?')
    await answerTo(top.id, 'No notes yet')
  })
})
