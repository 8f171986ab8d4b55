/**
 * Document names. Every Yjs document the relay serves is one of these; the name alone says
 * which access rule applies (see SPEC.md).
 *   dir:<workspaceId>              workspace directory (server-written)
 *   conv:<conversationId>:<seg>    one segment of a conversation's messages
 *   thread:<rootMessageId>         replies of one thread
 *   board:<conversationId>         a channel's kanban board
 *   me:<memberId>                  one member's private state
 */
export type DocName =
  | { kind: 'dir'; workspaceId: string }
  | { kind: 'conv'; conversationId: string; segment: number }
  | { kind: 'thread'; rootMessageId: string }
  | { kind: 'board'; conversationId: string }
  | { kind: 'me'; memberId: string }

const idPart = '([a-z]+_[a-z2-7]{16})'
const patterns: Array<[RegExp, (m: RegExpExecArray) => DocName]> = [
  [new RegExp(`^dir:${idPart}$`), (m) => ({ kind: 'dir', workspaceId: m[1]! })],
  [new RegExp(`^conv:${idPart}:(0|[1-9][0-9]{0,8})$`), (m) => ({ kind: 'conv', conversationId: m[1]!, segment: Number(m[2]) })],
  [new RegExp(`^thread:${idPart}$`), (m) => ({ kind: 'thread', rootMessageId: m[1]! })],
  [new RegExp(`^board:${idPart}$`), (m) => ({ kind: 'board', conversationId: m[1]! })],
  [new RegExp(`^me:${idPart}$`), (m) => ({ kind: 'me', memberId: m[1]! })]
]

/** Returns null for anything that is not exactly a known document name. */
export function parseDocName(name: string): DocName | null {
  for (const [re, build] of patterns) {
    const m = re.exec(name)
    if (m) return build(m)
  }
  return null
}

export function formatDocName(doc: DocName): string {
  switch (doc.kind) {
    case 'dir': return `dir:${doc.workspaceId}`
    case 'conv': return `conv:${doc.conversationId}:${doc.segment}`
    case 'thread': return `thread:${doc.rootMessageId}`
    case 'board': return `board:${doc.conversationId}`
    case 'me': return `me:${doc.memberId}`
  }
}

export const docName = {
  dir: (workspaceId: string) => `dir:${workspaceId}`,
  conv: (conversationId: string, segment: number) => `conv:${conversationId}:${segment}`,
  thread: (rootMessageId: string) => `thread:${rootMessageId}`,
  board: (conversationId: string) => `board:${conversationId}`,
  me: (memberId: string) => `me:${memberId}`
}
