import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAgentReply, samplePacket } from '@circlechat/agent-sdk'
import type { AgentPacket } from '@circlechat/agent-sdk'
import { deliver, startAgent } from './lib/child-agent.js'
import type { RunningAgent } from './lib/child-agent.js'

const token = 'cc_0123456789abcdefghijklmnopqrstuv'
const base = samplePacket()
const inbox0 = base.inbox[0]!
const ana = inbox0.messages[0]!

function withMessage(patch: Partial<typeof ana>, packet: Partial<AgentPacket> = {}): AgentPacket {
  return samplePacket({ inbox: [{ ...inbox0, messages: [{ ...ana, ...patch }] }], ...packet })
}

describe.each(['webhook-agent.ts', 'python_agent.py'])('%s (real process, signed HTTP)', (file) => {
  let agent: RunningAgent
  beforeAll(async () => {
    agent = await startAgent(file, { CC_TOKEN: token })
  })
  afterAll(() => agent.stop())

  async function answer(packet: AgentPacket) {
    const res = await deliver(agent.url!, packet, token)
    expect(res.status).toBe(200)
    return parseAgentReply(await res.text())
  }

  it('echoes a mention into the conversation', async () => {
    expect(await answer(base)).toEqual({
      kind: 'actions',
      actions: [{ type: 'post_message', conversation_id: 'c_general000000000', body_md: 'Got it — you said: _when is the launch review?_' }]
    })
  })

  it('echoes a DM and stays in the thread of a thread reply', async () => {
    const dm = withMessage({ bodyMd: 'ping', parentId: 'msg_root0000000000' }, { trigger: 'dm' })
    expect(await answer(dm)).toEqual({
      kind: 'actions',
      actions: [{ type: 'post_message', conversation_id: 'c_general000000000', body_md: 'Got it — you said: _ping_', reply_to: 'msg_root0000000000' }]
    })
  })

  it('stays silent on a scheduled heartbeat', async () => {
    expect(await answer(samplePacket({ trigger: 'scheduled' }))).toEqual({ kind: 'silent' })
  })

  it('never answers its own message', async () => {
    const mine = withMessage({ memberId: base.agent.memberId, memberHandle: 'echo', memberName: 'Echo' })
    expect(await answer(mine)).toEqual({ kind: 'silent' })
  })

  it('refuses a packet signed with another token', async () => {
    expect((await deliver(agent.url!, base, token, { signWith: 'cc_somebodyelse' })).status).toBe(401)
  })
})
