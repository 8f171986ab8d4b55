import { sql } from 'drizzle-orm'
import { pgTable, text, bigint, bigserial, boolean, jsonb, customType, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'

/**
 * The PostgreSQL twin of schema.ts (read the comments there): same tables, columns, keys and
 * indexes, so the two cannot drift (schema-parity.test.ts compares them). Kinds map as: integer →
 * bigint (unix ms and Yjs client ids pass 2^31), boolean integer → boolean, JSON text → jsonb,
 * blob → bytea, autoincrement → bigserial.
 */

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

export const workspaces = pgTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  handle: text('handle').notNull(),
  icon: text('icon'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
})

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  mentionDigest: boolean('mention_digest').notNull().default(false),
  digestThrough: bigint('digest_through', { mode: 'number' })
})

export const members = pgTable('members', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  userId: text('user_id').references(() => users.id),
  kind: text('kind', { enum: ['user', 'agent', 'bot'] }).notNull(),
  name: text('name').notNull(),
  handle: text('handle').notNull(),
  role: text('role', { enum: ['admin', 'member', 'guest'] }).notNull(),
  avatar: text('avatar'),
  title: text('title'),
  reportsTo: text('reports_to'),
  deactivated: boolean('deactivated').notNull().default(false),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [uniqueIndex('members_ws_handle').on(t.workspaceId, t.handle), index('members_user').on(t.userId)])

export const sessions = pgTable('sessions', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull().references(() => users.id),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  createdAt: bigint('created_at', { mode: 'number' }),
  lastSeenAt: bigint('last_seen_at', { mode: 'number' }),
  userAgent: text('user_agent'),
  ip: text('ip')
}, (t) => [index('sessions_user').on(t.userId)])

export const passwordResets = pgTable('password_resets', {
  tokenHash: text('token_hash').primaryKey(),
  userId: text('user_id').notNull().references(() => users.id),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  usedAt: bigint('used_at', { mode: 'number' })
}, (t) => [index('password_resets_user').on(t.userId)])

export const invites = pgTable('invites', {
  tokenHash: text('token_hash').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  email: text('email').notNull(),
  role: text('role', { enum: ['admin', 'member', 'guest'] }).notNull(),
  createdBy: text('created_by').notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  usedAt: bigint('used_at', { mode: 'number' }),
  kind: text('kind', { enum: ['email', 'link'] }).notNull().default('email'),
  channelIds: jsonb('channel_ids').$type<string[]>(),
  uses: bigint('uses', { mode: 'number' }).notNull().default(0),
  createdAt: bigint('created_at', { mode: 'number' }),
  revokedAt: bigint('revoked_at', { mode: 'number' })
}, (t) => [index('invites_ws').on(t.workspaceId, t.kind)])

export const conversations = pgTable('conversations', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  kind: text('kind', { enum: ['channel', 'dm'] }).notNull(),
  name: text('name').notNull(),
  topic: text('topic').notNull().default(''),
  description: text('description').notNull().default(''),
  isPrivate: boolean('is_private').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  liveSegment: bigint('live_segment', { mode: 'number' }).notNull().default(0),
  dmKey: text('dm_key'),
  archivedAt: bigint('archived_at', { mode: 'number' })
}, (t) => [index('conversations_ws').on(t.workspaceId), uniqueIndex('conversations_dm_key').on(t.workspaceId, t.dmKey)])

export const conversationMembers = pgTable('conversation_members', {
  conversationId: text('conversation_id').notNull().references(() => conversations.id),
  memberId: text('member_id').notNull().references(() => members.id),
  joinedAt: bigint('joined_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.conversationId, t.memberId] }), index('conversation_members_member').on(t.memberId)])

export const pins = pgTable('pins', {
  messageId: text('message_id').primaryKey(),
  conversationId: text('conversation_id').notNull().references(() => conversations.id),
  pinnedBy: text('pinned_by').notNull(),
  pinnedAt: bigint('pinned_at', { mode: 'number' }).notNull()
}, (t) => [index('pins_conversation').on(t.conversationId, t.pinnedAt)])

export const docUpdates = pgTable('doc_updates', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  doc: text('doc').notNull(),
  data: bytea('data').notNull()
}, (t) => [index('doc_updates_doc').on(t.doc, t.id)])

export const docClients = pgTable('doc_clients', {
  doc: text('doc').notNull(),
  clientId: bigint('client_id', { mode: 'number' }).notNull(),
  memberId: text('member_id').notNull()
}, (t) => [primaryKey({ columns: [t.doc, t.clientId] })])

export const docOwners = pgTable('doc_owners', {
  doc: text('doc').primaryKey(),
  fence: bigint('fence', { mode: 'number' }).notNull()
})

export const messages = pgTable('messages', {
  id: text('id').primaryKey(),
  conversationId: text('conversation_id').notNull(),
  doc: text('doc').notNull(),
  parentId: text('parent_id'),
  author: text('author').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  editedAt: bigint('edited_at', { mode: 'number' }),
  deleted: boolean('deleted').notNull().default(false),
  body: text('body').notNull(),
  mentions: jsonb('mentions').$type<string[]>().notNull(),
  attachments: jsonb('attachments').$type<unknown[]>().notNull(),
  reactions: jsonb('reactions').$type<Array<{ emoji: string; memberId: string }>>().notNull(),
  threadCount: bigint('thread_count', { mode: 'number' }).notNull().default(0),
  lastReplyAt: bigint('last_reply_at', { mode: 'number' }),
  card: jsonb('card').$type<{ kind: 'approval'; approvalId: string; status?: 'pending' | 'approved' | 'denied' }>()
}, (t) => [index('messages_conv_time').on(t.conversationId, t.parentId, t.createdAt), index('messages_parent').on(t.parentId, t.createdAt)])

export const messageMentions = pgTable('message_mentions', {
  messageId: text('message_id').notNull(),
  target: text('target').notNull(),
  conversationId: text('conversation_id').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.messageId, t.target] }), index('message_mentions_target_time').on(t.target, t.createdAt)])

export const threadFollows = pgTable('thread_follows', {
  rootId: text('root_id').notNull(),
  memberId: text('member_id').notNull(),
  conversationId: text('conversation_id').notNull(),
  following: boolean('following').notNull(),
  at: bigint('at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.rootId, t.memberId] }), index('thread_follows_member').on(t.memberId, t.following)])

export const tasks = pgTable('tasks', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  board: text('board').notNull(),
  conversationId: text('conversation_id'),
  title: text('title').notNull(),
  body: text('body').notNull(),
  status: text('status').notNull(),
  blocked: boolean('blocked').notNull().default(false),
  position: text('position').notNull(),
  progress: bigint('progress', { mode: 'number' }).notNull().default(0),
  dueAt: bigint('due_at', { mode: 'number' }),
  parentId: text('parent_id'),
  createdBy: text('created_by').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  deleted: boolean('deleted').notNull().default(false),
  labels: jsonb('labels').$type<string[]>().notNull(),
  comments: text('comments').notNull().default(''),
  commentCount: bigint('comment_count', { mode: 'number' }).notNull().default(0),
  archivedAt: bigint('archived_at', { mode: 'number' }),
  archive: jsonb('archive')
}, (t) => [index('tasks_board').on(t.board, t.status), index('tasks_workspace_updated').on(t.workspaceId, t.updatedAt)])

export const taskAssignees = pgTable('task_assignees', {
  taskId: text('task_id').notNull(),
  memberId: text('member_id').notNull()
}, (t) => [primaryKey({ columns: [t.taskId, t.memberId] }), index('task_assignees_member').on(t.memberId)])

export const files = pgTable('files', {
  key: text('key').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  owner: text('owner').notNull(),
  sha256: text('sha256').notNull(),
  name: text('name').notNull(),
  contentType: text('content_type').notNull(),
  size: bigint('size', { mode: 'number' }).notNull(),
  width: bigint('width', { mode: 'number' }),
  height: bigint('height', { mode: 'number' }),
  thumbSha256: text('thumb_sha256'),
  voice: jsonb('voice').$type<{ durationMs: number; peaks: number[] }>(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [index('files_owner').on(t.owner, t.createdAt), index('files_sha256').on(t.sha256), index('files_thumb').on(t.thumbSha256)])

export const fileRefs = pgTable('file_refs', {
  fileKey: text('file_key').notNull(),
  ref: text('ref').notNull(),
  scope: text('scope').notNull(),
  deleted: boolean('deleted').notNull().default(false),
  taskId: text('task_id'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.fileKey, t.ref] }), index('file_refs_scope').on(t.scope, t.createdAt), index('file_refs_ref').on(t.ref)])

export const idempotencyKeys = pgTable('idempotency_keys', {
  memberId: text('member_id').notNull(),
  key: text('key').notNull(),
  messageId: text('message_id').notNull(),
  fingerprint: text('fingerprint').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.memberId, t.key] }), index('idempotency_keys_created').on(t.createdAt)])

export const agents = pgTable('agents', {
  id: text('id').primaryKey(),
  memberId: text('member_id').notNull().references(() => members.id),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  adapter: text('adapter', { enum: ['webhook', 'socket', 'peer'] }).notNull(),
  callbackUrl: text('callback_url'),
  brief: text('brief').notNull().default(''),
  model: text('model'),
  scopes: jsonb('scopes').$type<string[]>().notNull(),
  heartbeatIntervalSec: bigint('heartbeat_interval_sec', { mode: 'number' }).notNull().default(30),
  tokenHash: text('token_hash').notNull().unique(),
  tokenCipher: text('token_cipher').notNull().default(''),
  status: text('status', { enum: ['idle', 'running', 'error'] }).notNull().default('idle'),
  lastError: text('last_error'),
  lastRunAt: bigint('last_run_at', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
})

export const agentRuns = pgTable('agent_runs', {
  id: text('id').primaryKey(),
  agentId: text('agent_id').notNull().references(() => agents.id),
  trigger: text('trigger').notNull(),
  conversationId: text('conversation_id'),
  messageId: text('message_id'),
  status: text('status', { enum: ['queued', 'running', 'ok', 'silent', 'error'] }).notNull(),
  attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
  packet: jsonb('packet'),
  reply: text('reply'),
  applied: jsonb('applied').$type<unknown[]>(),
  errors: jsonb('errors').$type<unknown[]>(),
  trace: jsonb('trace').$type<string[]>(),
  usage: jsonb('usage'),
  costUsd: bigint('cost_micro_usd', { mode: 'number' }),
  startedAt: bigint('started_at', { mode: 'number' }),
  finishedAt: bigint('finished_at', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [index('agent_runs_agent').on(t.agentId, t.createdAt)])

export const approvals = pgTable('approvals', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  agentId: text('agent_id').notNull().references(() => agents.id),
  runId: text('run_id'),
  conversationId: text('conversation_id'),
  messageId: text('message_id'),
  scope: text('scope').notNull(),
  action: text('action').notNull(),
  payload: jsonb('payload'),
  pendingAction: jsonb('pending_action'),
  status: text('status', { enum: ['pending', 'approved', 'denied'] }).notNull(),
  executedAt: bigint('executed_at', { mode: 'number' }),
  result: jsonb('result').$type<{ ok: boolean; result?: unknown; error?: string }>(),
  note: text('note'),
  decidedBy: text('decided_by'),
  decidedAt: bigint('decided_at', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  fingerprint: text('fingerprint')
}, (t) => [
  index('approvals_ws').on(t.workspaceId, t.status),
  uniqueIndex('approvals_pending_fingerprint').on(t.agentId, t.fingerprint).where(sql`status = 'pending'`)
])

export const agentMemory = pgTable('agent_memory', {
  agentId: text('agent_id').notNull().references(() => agents.id),
  scope: text('scope', { enum: ['global', 'conversation', 'task'] }).notNull(),
  scopeId: text('scope_id').notNull().default(''),
  key: text('key').notNull(),
  value: jsonb('value'),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.agentId, t.scope, t.scopeId, t.key] })])

export const oidcIdentities = pgTable('oidc_identities', {
  issuer: text('issuer').notNull(),
  subject: text('subject').notNull(),
  userId: text('user_id').notNull().references(() => users.id),
  email: text('email').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [primaryKey({ columns: [t.issuer, t.subject] }), uniqueIndex('oidc_identities_user').on(t.issuer, t.userId)])

export const oidcPending = pgTable('oidc_pending', {
  id: text('id').primaryKey(),
  purpose: text('purpose', { enum: ['login', 'link'] }).notNull(),
  data: jsonb('data').notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull()
}, (t) => [index('oidc_pending_expires').on(t.expiresAt)])

export const adminAudit = pgTable('admin_audit', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  actorId: text('actor_id').notNull(),
  action: text('action').notNull(),
  targetKind: text('target_kind').notNull(),
  targetId: text('target_id').notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull()
}, (t) => [index('admin_audit_ws').on(t.workspaceId, t.id)])

export const inboundAddresses = pgTable('inbound_addresses', {
  conversationId: text('conversation_id').primaryKey().references(() => conversations.id),
  secretHash: text('secret_hash').notNull().unique(),
  secretCipher: text('secret_cipher').notNull(),
  memberId: text('member_id').notNull().references(() => members.id),
  enabled: boolean('enabled').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull()
})
