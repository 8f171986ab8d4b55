import { describe, expect, it } from 'vitest'
import { agentPacketSchema } from './packet.js'
import { samplePacket } from './sample-packet.js'
import { socketDispatchSchema, socketReplySchema } from './socket.js'

describe('agentPacketSchema', () => {
  it('accepts the sample packet', () => expect(agentPacketSchema.safeParse(samplePacket()).success).toBe(true))

  it('accepts a task-only heartbeat with lastRun feedback and a task', () => {
    const p = samplePacket({
      trigger: 'scheduled',
      triggerConversationId: null,
      inbox: [],
      lastRun: { runId: 'run_prev', status: 'ok', errors: [{ action: 0, error: 'not a member' }] },
      task: {
        id: 'task_1', conversationId: null, conversationName: null, title: 'Write recap', bodyMd: '', status: 'in_progress', blocked: false, progress: 10,
        dueAt: null, labels: [], assignees: ['m_agent0000000000'], assigneeHandles: ['scout'], parentId: null, createdBy: 'm_ada', subtasks: [],
        recentComments: [{ id: 'tcom_1', memberId: 'm_ada', memberHandle: 'ada', bodyMd: 'Draft by Friday?', ts: '2026-11-24T16:59:00.000Z', attachments: [] }]
      }
    })
    expect(agentPacketSchema.safeParse(p).success).toBe(true)
  })

  it('accepts a test trigger with no trigger conversation and a failed previous run', () => {
    const p = samplePacket({
      trigger: 'test',
      triggerConversationId: null,
      triggerMessageId: null,
      previousRunFailure: { errorText: 'webhook answered 502', finishedAt: '2026-11-24T16:59:00.000Z' }
    })
    expect(agentPacketSchema.safeParse(p).success).toBe(true)
    expect(agentPacketSchema.safeParse({ ...p, previousRunFailure: { errorText: 'x' } }).success).toBe(false)
  })

  it('rejects an unknown trigger and a missing runId', () => {
    expect(agentPacketSchema.safeParse({ ...samplePacket(), trigger: 'cron' }).success).toBe(false)
    const { runId: _, ...noRun } = samplePacket()
    expect(agentPacketSchema.safeParse(noRun).success).toBe(false)
  })
})

describe('socket frames', () => {
  it('a dispatch carries a correlation id and a packet', () => {
    expect(socketDispatchSchema.safeParse({ type: 'event', correlation_id: 'x1', packet: samplePacket() }).success).toBe(true)
    expect(socketDispatchSchema.safeParse({ type: 'event', packet: samplePacket() }).success).toBe(false)
  })
  it('a reply is silent or carries actions', () => {
    expect(socketReplySchema.safeParse({ type: 'reply', correlation_id: 'x1', status: 'HEARTBEAT_OK' }).success).toBe(true)
    expect(socketReplySchema.safeParse({ type: 'reply', correlation_id: 'x1', actions: [], trace: ['t'] }).success).toBe(true)
    expect(socketReplySchema.safeParse({ type: 'reply', correlation_id: 'x1' }).success).toBe(false)
  })
})
