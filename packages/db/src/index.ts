export { openDb } from './client.js'
export { snapshotSqlite } from './snapshot.js'
export type { Db } from './client.js'
export * as schema from './schema.js'
export {
  workspaces, users, members, sessions, invites, conversations, conversationMembers, docUpdates,
  docClients, messages, agents, agentRuns, approvals, agentMemory, tasks, taskAssignees, files, fileRefs,
  threadFollows, pins, oidcIdentities, oidcPending, inboundAddresses, adminAudit
} from './schema.js'
export { passwordResets } from './schema.js'
