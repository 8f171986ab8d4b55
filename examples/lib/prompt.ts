import type { AgentPacket, PacketMessage } from '@circlechat/agent-sdk'

// Turns a packet into a system + user prompt any chat model can answer. Shared by the OpenAI
// and Anthropic examples so both models see exactly the same contract.

export interface Prompt { system: string; user: string }

/** One line per action, in the wire form the model must emit. */
const actionList = `- {"type":"post_message","conversation_id","body_md","reply_to"?}
- {"type":"react","message_id","emoji"}
- {"type":"open_thread","message_id","body_md"}
- {"type":"share_files","conversation_id","files":[{"url"}|{"path"}],"body_md"?,"reply_to"?}
- {"type":"create_task","title","body_md"?,"status"?,"assignees"?:[memberId],"labels"?,"due_at"?,"parent_id"?,"conversation_id"?}
- {"type":"update_task","task_id","title"?,"body_md"?,"status"?,"progress"?:0-100,"due_at"?}
- {"type":"assign_task","task_id","member_id"}
- {"type":"task_comment","task_id","body_md"}
- {"type":"share_to_task","task_id","files":[…],"body_md"?}
- {"type":"request_approval","scope","action","payload"?,"conversation_id"?}
- {"type":"set_memory","key","value","scope"?:"global"|"conversation"|"task","scope_id"?}
Task statuses: backlog, in_progress, review, done, blocked.`

export function buildPrompt(packet: AgentPacket): Prompt {
  const { agent, workspace } = packet
  // Scheduled runs have no trigger conversation either; only an empty inbox means task-only.
  const taskOnly = packet.inbox.length === 0
  const system = [
    `You are ${agent.name} (@${agent.handle}, member id ${agent.memberId})${agent.title ? `, ${agent.title}` : ''}, a member of the ${workspace.name} workspace in CircleChat.`,
    agent.brief && `Your brief: ${agent.brief}`,
    'You act only through actions. Answer with exactly one block:',
    '<actions>[ …JSON action objects… ]</actions>',
    'or, when nothing needs doing, the single word HEARTBEAT_OK.',
    'Allowed actions (ids come from the context; never invent them):',
    actionList,
    'Rules: at most 20 actions; never answer your own messages; message bodies are Markdown written for people,',
    'with no reasoning, no status narration ("Message sent"), no JSON and no error dumps.',
    taskOnly && 'No conversation needs you now: work on your open tasks. The only valid output is an <actions> block or HEARTBEAT_OK.'
  ].filter(Boolean).join('\n')

  const sections: string[] = [`Trigger: ${packet.trigger}${packet.triggerConversationId ? ` in ${packet.triggerConversationId}` : ''}${packet.triggerMessageId ? `, message ${packet.triggerMessageId}` : ''}`]
  for (const conv of packet.inbox) {
    const title = conv.conversationKind === 'dm' ? `DM ${conv.conversationId}` : `#${conv.conversationName} (${conv.conversationId})`
    sections.push(`${title}${conv.conversationTopic ? ` — ${conv.conversationTopic}` : ''}\n${conv.messages.map(line).join('\n') || '(no messages)'}`)
  }
  if (packet.thread) sections.push(`Thread on ${packet.thread.rootMessageId} in ${packet.thread.conversationId}\n${packet.thread.messages.map(line).join('\n')}`)
  if (packet.task) sections.push(`Task ${packet.task.id}: ${packet.task.title} [${packet.task.status}, ${packet.task.progress}%]\n${packet.task.bodyMd}`)
  if (packet.myTasks.length) sections.push(`My open tasks:\n${packet.myTasks.map((t) => `- ${t.id} ${t.title} [${t.status}, ${t.progress}%]${t.dueAt ? ` due ${t.dueAt}` : ''}`).join('\n')}`)
  if (packet.approvalResponse) sections.push(`Approval ${packet.approvalResponse.id} (${packet.approvalResponse.action}) was ${packet.approvalResponse.status}${packet.approvalResponse.note ? `: ${packet.approvalResponse.note}` : ''}`)
  if (packet.openApprovals.length) sections.push(`Open approvals:\n${packet.openApprovals.map((a) => `- ${a.id} ${a.scope}: ${a.action} [${a.status}]`).join('\n')}`)
  sections.push(`Memory: ${JSON.stringify(packet.memory)}`)
  if (packet.lastRun?.errors.length) sections.push(`Your previous run (${packet.lastRun.runId}) had problems; avoid repeating them:\n${packet.lastRun.errors.map((e) => `- ${typeof e === 'string' ? e : JSON.stringify(e)}`).join('\n')}`)
  return { system, user: sections.join('\n\n') }
}

function line(m: PacketMessage): string {
  return `[${m.id}] ${m.ts} @${m.memberHandle}${m.parentId ? ` (in thread ${m.parentId})` : ''}: ${m.bodyMd}`
}
