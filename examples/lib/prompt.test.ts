import { describe, expect, it } from 'vitest'
import { agentPacketSchema, samplePacket } from '@circlechat/agent-sdk'
import type { AgentPacket } from '@circlechat/agent-sdk'
import { replyFromModelText } from './model-reply.js'
import { buildPrompt } from './prompt.js'

const task = {
  id: 'task_recap00000000', title: 'Write the Q3 recap', status: 'in_progress', progress: 40, dueAt: null,
  conversationId: null, conversationName: null, labels: [], commentCount: 0, latestComment: null
}
const taskOnly: AgentPacket = samplePacket({ trigger: 'scheduled', triggerConversationId: null, triggerMessageId: null, inbox: [], myTasks: [task] })

describe('buildPrompt', () => {
  it('names the agent, the trigger, the messages and the reply rule', () => {
    const { system, user } = buildPrompt(samplePacket())
    expect(system).toContain('@echo')
    expect(system).toContain('<actions>')
    expect(system).toContain('HEARTBEAT_OK')
    for (const t of ['set_memory', 'request_approval', 'share_to_task']) expect(system).toContain(t)
    expect(user).toContain('Trigger: mention in c_general000000000')
    expect(user).toContain('[msg_sample00000000] 2026-11-24T17:00:00.000Z @ana: @echo when is the launch review?')
  })

  it('switches to the strict task-only contract without a conversation', () => {
    expect(agentPacketSchema.safeParse(taskOnly).success).toBe(true)
    const { system, user } = buildPrompt(taskOnly)
    expect(system).toMatch(/only valid output is an <actions> block or HEARTBEAT_OK/)
    expect(user).toContain('task_recap00000000 Write the Q3 recap [in_progress, 40%]')
  })

  it('feeds back what went wrong last run', () => {
    const p = samplePacket({ lastRun: { runId: 'run_prev', status: 'ok', errors: ['post_message: not a member of c_x'] } })
    expect(buildPrompt(p).user).toContain('not a member of c_x')
  })
})

describe('replyFromModelText', () => {
  it('posts plain prose to the trigger conversation', () => {
    expect(replyFromModelText('Thursday at 3pm.', samplePacket())).toEqual({
      actions: [{ type: 'post_message', conversation_id: 'c_general000000000', body_md: 'Thursday at 3pm.' }]
    })
  })

  it('turns prose into a comment on my first task in task-only mode', () => {
    expect(replyFromModelText('Draft is half done.', taskOnly)).toEqual({
      actions: [{ type: 'task_comment', task_id: 'task_recap00000000', body_md: 'Draft is half done.' }]
    })
  })

  it('ignores commentary beside an actions block', () => {
    const react = { type: 'react', message_id: 'msg_sample00000000', emoji: '👍' }
    expect(replyFromModelText(`Here is my answer:\n<actions>[${JSON.stringify(react)}]</actions>`, samplePacket())).toEqual({ actions: [react] })
  })

  it('normalises aliases and stays silent on HEARTBEAT_OK', () => {
    expect(replyFromModelText('<actions>[{"type":"comment","task_id":"task_1","body_md":"ok"}]</actions>', samplePacket()))
      .toEqual({ actions: [{ type: 'task_comment', task_id: 'task_1', body_md: 'ok' }] })
    expect(replyFromModelText(' HEARTBEAT_OK ', samplePacket())).toBe('HEARTBEAT_OK')
  })
})
