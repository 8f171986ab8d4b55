import type { AgentPacket } from './packet.js'

// A small, valid packet: a human mentions the agent in #general. For agent authors' tests and ours;
// callers override what their case needs.

export function samplePacket(overrides: Partial<AgentPacket> = {}): AgentPacket {
  const me = { memberId: 'm_agent0000000000', kind: 'agent' as const, name: 'Echo', handle: 'echo' }
  const ana = { memberId: 'm_human0000000000', kind: 'user' as const, name: 'Ana Diaz', handle: 'ana' }
  return {
    runId: 'run_sample000000000',
    agent: {
      id: 'a_sample0000000000', memberId: me.memberId, handle: me.handle, name: me.name,
      model: null, title: 'Helper', scopes: [], brief: 'Answer questions in #general.'
    },
    workspace: { id: 'w_sample0000000000', name: 'Acme', handle: 'acme' },
    trigger: 'mention',
    triggerConversationId: 'c_general000000000',
    triggerMessageId: 'msg_sample00000000',
    members: { [me.memberId]: { ...me, isMe: true }, [ana.memberId]: ana },
    inbox: [{
      conversationId: 'c_general000000000',
      conversationKind: 'channel',
      conversationName: 'general',
      conversationTopic: null,
      conversationMembers: [me.memberId, ana.memberId],
      messages: [{
        id: 'msg_sample00000000', memberId: ana.memberId, memberHandle: ana.handle, memberName: ana.name,
        bodyMd: '@echo when is the launch review?', parentId: null, ts: '2026-11-24T17:00:00.000Z',
        mentions: [me.memberId], reactions: [], attachments: []
      }]
    }],
    thread: null,
    openApprovals: [],
    memory: { global: {}, byConversation: {}, byTask: {} },
    reporting: { manager: null, directReports: [], peers: [] },
    myTasks: [],
    lastRun: null,
    previousRunFailure: null,
    ...overrides
  }
}
