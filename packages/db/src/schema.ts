import { sql } from 'drizzle-orm'
import { sqliteTable, text, integer, blob, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * Relational data that gates access or must be queried. Conversation content lives in Yjs docs
 * (doc_updates); `messages` is an index materialised from the change feed, never the source.
 * Times are unix milliseconds.
 */

export const workspaces = sqliteTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  handle: text('handle').notNull(),
  /** The workspace icon: an uploaded image's file key (readable by every member), or null. */
  icon: text('icon'),
  createdAt: integer('created_at').notNull()
})

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Opted in on their profile: mail a digest of unread mentions while away (services/mention-digest.ts). */
  mentionDigest: integer('mention_digest', { mode: 'boolean' }).notNull().default(false),
  /** Mentions up to this time were mailed, or skipped at opt-in: the next digest starts after it. */
  digestThrough: integer('digest_through')
})

export const members = sqliteTable('members', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  userId: text('user_id').references(() => users.id),
  /** 'bot': a server-run member that is neither a person nor an agent (a channel's Email member). */
  kind: text('kind', { enum: ['user', 'agent', 'bot'] }).notNull(),
  name: text('name').notNull(),
  handle: text('handle').notNull(),
  /** A guest reads and writes only the channels they were added to (docs/decisions.md). */
  role: text('role', { enum: ['admin', 'member', 'guest'] }).notNull(),
  avatar: text('avatar'),
  title: text('title'),
  reportsTo: text('reports_to'),
  deactivated: integer('deactivated', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull()
}, (t) => [uniqueIndex('members_ws_handle').on(t.workspaceId, t.handle), index('members_user').on(t.userId)])

/** Session ids are hex(sha256(token)); the token itself exists only in the cookie. */
export const sessions = sqliteTable('sessions', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull().references(() => users.id),
  expiresAt: integer('expires_at').notNull(),
  /** What the profile's session list shows; null on sessions older than the columns. */
  createdAt: integer('created_at'),
  /** Last request or socket opened with it, at most a minute stale (auth/sessions.ts). */
  lastSeenAt: integer('last_seen_at'),
  userAgent: text('user_agent'),
  ip: text('ip')
}, (t) => [index('sessions_user').on(t.userId)])

/** Password reset links: hex(sha256(token)) only; single use, an hour (services/password-reset.ts). */
export const passwordResets = sqliteTable('password_resets', {
  tokenHash: text('token_hash').primaryKey(),
  userId: text('user_id').notNull().references(() => users.id),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at')
}, (t) => [index('password_resets_user').on(t.userId)])

/**
 * An invite by email is spent by its one sign-up (`used_at`). An invite link (`kind` 'link', no
 * email) takes any number of sign-ups until it expires or an admin revokes it; `uses` counts them.
 * `channel_ids`: a guest invite's channels, the only ones its guests join.
 */
export const invites = sqliteTable('invites', {
  tokenHash: text('token_hash').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  email: text('email').notNull(),
  role: text('role', { enum: ['admin', 'member', 'guest'] }).notNull(),
  createdBy: text('created_by').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  kind: text('kind', { enum: ['email', 'link'] }).notNull().default('email'),
  channelIds: text('channel_ids', { mode: 'json' }).$type<string[]>(),
  uses: integer('uses').notNull().default(0),
  createdAt: integer('created_at'),
  revokedAt: integer('revoked_at')
}, (t) => [index('invites_ws').on(t.workspaceId, t.kind)])

export const conversations = sqliteTable('conversations', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  kind: text('kind', { enum: ['channel', 'dm'] }).notNull(),
  name: text('name').notNull(),
  topic: text('topic').notNull().default(''),
  description: text('description').notNull().default(''),
  isPrivate: integer('is_private', { mode: 'boolean' }).notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  liveSegment: integer('live_segment').notNull().default(0),
  /** DMs: sorted member ids joined by ',', so the same set of people reuses one DM. */
  dmKey: text('dm_key'),
  /** Set while a channel is archived: read-only for everyone, left out of sidebars. */
  archivedAt: integer('archived_at')
}, (t) => [index('conversations_ws').on(t.workspaceId), uniqueIndex('conversations_dm_key').on(t.workspaceId, t.dmKey)])

export const conversationMembers = sqliteTable('conversation_members', {
  conversationId: text('conversation_id').notNull().references(() => conversations.id),
  memberId: text('member_id').notNull().references(() => members.id),
  joinedAt: integer('joined_at').notNull()
}, (t) => [primaryKey({ columns: [t.conversationId, t.memberId] }), index('conversation_members_member').on(t.memberId)])

/** Pinned messages of a conversation, any segment or thread; the details panel lists them. */
export const pins = sqliteTable('pins', {
  messageId: text('message_id').primaryKey(),
  conversationId: text('conversation_id').notNull().references(() => conversations.id),
  pinnedBy: text('pinned_by').notNull(),
  pinnedAt: integer('pinned_at').notNull()
}, (t) => [index('pins_conversation').on(t.conversationId, t.pinnedAt)])

/** Append-only Yjs update log; compaction replaces a prefix of a doc's rows with one merged row. */
export const docUpdates = sqliteTable('doc_updates', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  doc: text('doc').notNull(),
  data: blob('data', { mode: 'buffer' }).notNull()
}, (t) => [index('doc_updates_doc').on(t.doc, t.id)])

/** Yjs client ids each member introduced per doc (guard rule OWN8). */
export const docClients = sqliteTable('doc_clients', {
  doc: text('doc').notNull(),
  clientId: integer('client_id').notNull(),
  memberId: text('member_id').notNull()
}, (t) => [primaryKey({ columns: [t.doc, t.clientId] })])

/** A doc's owner fence (cluster mode): an append commits only with a fence not below this, so a
 *  process that lost its lease cannot write after the next owner did. */
export const docOwners = sqliteTable('doc_owners', {
  doc: text('doc').primaryKey(),
  fence: integer('fence').notNull()
})

/** Message index materialised from conversation and thread docs (search, REST reads, unread). */
export const messages = sqliteTable('messages', {
  id: text('id').primaryKey(),
  conversationId: text('conversation_id').notNull(),
  doc: text('doc').notNull(),
  parentId: text('parent_id'),
  author: text('author').notNull(),
  createdAt: integer('created_at').notNull(),
  editedAt: integer('edited_at'),
  deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  body: text('body').notNull(),
  mentions: text('mentions', { mode: 'json' }).$type<string[]>().notNull(),
  attachments: text('attachments', { mode: 'json' }).$type<unknown[]>().notNull(),
  reactions: text('reactions', { mode: 'json' }).$type<Array<{ emoji: string; memberId: string }>>().notNull(),
  threadCount: integer('thread_count').notNull().default(0),
  lastReplyAt: integer('last_reply_at'),
  /** Server-written card (an agent's approval request), so REST readers see it too. */
  card: text('card', { mode: 'json' }).$type<{ kind: 'approval'; approvalId: string; status?: 'pending' | 'approved' | 'denied' }>()
}, (t) => [index('messages_conv_time').on(t.conversationId, t.parentId, t.createdAt), index('messages_parent').on(t.parentId, t.createdAt)])

/**
 * Who each live message mentions (a member id, 'everyone' or 'channel'), one row per mention, so
 * the Mentions view reads the newest mentions of a member by index instead of scanning every
 * message's JSON (services/activity.ts). Kept by triggers on `messages` (migration 0020), so every
 * writer of the index keeps it too; a deleted message has none.
 */
export const messageMentions = sqliteTable('message_mentions', {
  messageId: text('message_id').notNull(),
  target: text('target').notNull(),
  conversationId: text('conversation_id').notNull(),
  createdAt: integer('created_at').notNull()
}, (t) => [primaryKey({ columns: [t.messageId, t.target] }), index('message_mentions_target_time').on(t.target, t.createdAt)])

/**
 * Who follows which thread (`root_id`: its root message). Written by the server when a member
 * replies or is mentioned in a thread, and on follow/unfollow; `following` false remembers an
 * unfollow, so a later reply by someone else does not follow it back. Replies fan out to the
 * followers, found by the primary key's prefix.
 */
export const threadFollows = sqliteTable('thread_follows', {
  rootId: text('root_id').notNull(),
  memberId: text('member_id').notNull(),
  conversationId: text('conversation_id').notNull(),
  following: integer('following', { mode: 'boolean' }).notNull(),
  at: integer('at').notNull()
}, (t) => [primaryKey({ columns: [t.rootId, t.memberId] }), index('thread_follows_member').on(t.memberId, t.following)])

/**
 * Task index, materialised from board docs in the same transaction as the doc update (like
 * `messages`): the "All tasks" view, `my-tasks`, agent packets and search read it. `board` is the
 * board doc's scope id — a conversation id, or the workspace id for tasks tied to none.
 */
export const tasks = sqliteTable('tasks', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  board: text('board').notNull(),
  conversationId: text('conversation_id'),
  title: text('title').notNull(),
  body: text('body').notNull(),
  status: text('status').notNull(),
  blocked: integer('blocked', { mode: 'boolean' }).notNull().default(false),
  position: text('position').notNull(),
  progress: integer('progress').notNull().default(0),
  dueAt: integer('due_at'),
  parentId: text('parent_id'),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  labels: text('labels', { mode: 'json' }).$type<string[]>().notNull(),
  /** Comment bodies joined, so search finds a task by what was said on it. */
  comments: text('comments').notNull().default(''),
  commentCount: integer('comment_count').notNull().default(0),
  /** Set when the task left its board doc (done and untouched for BOARD_ARCHIVE_DAYS). */
  archivedAt: integer('archived_at'),
  /** The archived task as it last stood: `{task, comments, activity}` (model Task, TaskComment[], ActivityEntry[]). */
  archive: text('archive', { mode: 'json' })
}, (t) => [index('tasks_board').on(t.board, t.status), index('tasks_workspace_updated').on(t.workspaceId, t.updatedAt)])

/** Who is assigned to which task: `my-tasks` and the task_assigned trigger read it. */
export const taskAssignees = sqliteTable('task_assignees', {
  taskId: text('task_id').notNull(),
  memberId: text('member_id').notNull()
}, (t) => [primaryKey({ columns: [t.taskId, t.memberId] }), index('task_assignees_member').on(t.memberId)])

/**
 * One row per upload. `key` is random (ids.ts `f_…`), never derived from the bytes, so holding a
 * file does not give its URL; `sha256` names the blob (several uploads may share one). Read
 * access comes from `file_refs`; before the first reference only the owner may read it.
 */
export const files = sqliteTable('files', {
  key: text('key').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  /** The uploader, or the agent the server uploaded it for. */
  owner: text('owner').notNull(),
  sha256: text('sha256').notNull(),
  name: text('name').notNull(),
  /** Sniffed from the bytes, never the client's word. */
  contentType: text('content_type').notNull(),
  size: integer('size').notNull(),
  width: integer('width'),
  height: integer('height'),
  thumbSha256: text('thumb_sha256'),
  /**
   * A voice message: its length and waveform peaks (0-100, one per bar), measured by the
   * recording browser and bounded at upload (services/voice.ts). NULL for every other file.
   */
  voice: text('voice', { mode: 'json' }).$type<{ durationMs: number; peaks: number[] }>(),
  createdAt: integer('created_at').notNull()
}, (t) => [index('files_owner').on(t.owner, t.createdAt), index('files_sha256').on(t.sha256), index('files_thumb').on(t.thumbSha256)])

/**
 * Where a file is attached: a message or thread reply (`ref` = message id) or a task comment
 * (`ref` = comment id). `scope` decides who may read it: a conversation id (its members), or a
 * workspace id for a workspace board (every member). Written when the message is indexed.
 */
export const fileRefs = sqliteTable('file_refs', {
  fileKey: text('file_key').notNull(),
  ref: text('ref').notNull(),
  scope: text('scope').notNull(),
  /** The message or comment was deleted: it no longer grants access. */
  deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  /** The task whose comment `ref` is; null for a message or thread reply (the Files page links to either). */
  taskId: text('task_id'),
  createdAt: integer('created_at').notNull()
}, (t) => [primaryKey({ columns: [t.fileKey, t.ref] }), index('file_refs_scope').on(t.scope, t.createdAt), index('file_refs_ref').on(t.ref)])

/**
 * REST `Idempotency-Key` → the message id it posts, per member. Reserved before the post, so a
 * retry after a cut connection or a restart finds the message (or posts it under the same id).
 */
export const idempotencyKeys = sqliteTable('idempotency_keys', {
  memberId: text('member_id').notNull(),
  key: text('key').notNull(),
  messageId: text('message_id').notNull(),
  /** What the key was first used for (conversation, parent, body): a different request is refused. */
  fingerprint: text('fingerprint').notNull(),
  createdAt: integer('created_at').notNull()
}, (t) => [primaryKey({ columns: [t.memberId, t.key] }), index('idempotency_keys_created').on(t.createdAt)])

export const agents = sqliteTable('agents', {
  id: text('id').primaryKey(),
  memberId: text('member_id').notNull().references(() => members.id),
  workspaceId: text('workspace_id').notNull().references(() => workspaces.id),
  adapter: text('adapter', { enum: ['webhook', 'socket', 'peer'] }).notNull(),
  callbackUrl: text('callback_url'),
  brief: text('brief').notNull().default(''),
  model: text('model'),
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
  heartbeatIntervalSec: integer('heartbeat_interval_sec').notNull().default(30),
  tokenHash: text('token_hash').notNull().unique(),
  /** The token, AES-256-GCM encrypted with the server key: outbound webhooks must present it
   *  (Authorization and x-cc-signature, per the agent contract). Inbound checks use the hash. */
  tokenCipher: text('token_cipher').notNull().default(''),
  status: text('status', { enum: ['idle', 'running', 'error'] }).notNull().default('idle'),
  lastError: text('last_error'),
  lastRunAt: integer('last_run_at'),
  createdAt: integer('created_at').notNull()
})

export const agentRuns = sqliteTable('agent_runs', {
  id: text('id').primaryKey(),
  agentId: text('agent_id').notNull().references(() => agents.id),
  trigger: text('trigger').notNull(),
  conversationId: text('conversation_id'),
  messageId: text('message_id'),
  status: text('status', { enum: ['queued', 'running', 'ok', 'silent', 'error'] }).notNull(),
  attempts: integer('attempts').notNull().default(0),
  packet: text('packet', { mode: 'json' }),
  reply: text('reply'),
  applied: text('applied', { mode: 'json' }).$type<unknown[]>(),
  errors: text('errors', { mode: 'json' }).$type<unknown[]>(),
  trace: text('trace', { mode: 'json' }).$type<string[]>(),
  usage: text('usage', { mode: 'json' }),
  costUsd: integer('cost_micro_usd'),
  startedAt: integer('started_at'),
  finishedAt: integer('finished_at'),
  createdAt: integer('created_at').notNull()
}, (t) => [index('agent_runs_agent').on(t.agentId, t.createdAt)])

export const approvals = sqliteTable('approvals', {
  id: text('id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  agentId: text('agent_id').notNull().references(() => agents.id),
  runId: text('run_id'),
  conversationId: text('conversation_id'),
  messageId: text('message_id'),
  scope: text('scope').notNull(),
  action: text('action').notNull(),
  payload: text('payload', { mode: 'json' }),
  /**
   * Set only by the server: the out-of-scope action this approval holds back, or the action a
   * request_approval payload names once it has validated. Executed once when approved
   * (agents/executor.ts executeApproved).
   */
  pendingAction: text('pending_action', { mode: 'json' }),
  status: text('status', { enum: ['pending', 'approved', 'denied'] }).notNull(),
  /** When the held action was claimed to run: set once, before it runs, so it runs at most once. */
  executedAt: integer('executed_at'),
  /** What running the held action gave: {ok, result?} or {ok: false, error}. */
  result: text('result', { mode: 'json' }).$type<{ ok: boolean; result?: unknown; error?: string }>(),
  note: text('note'),
  decidedBy: text('decided_by'),
  decidedAt: integer('decided_at'),
  createdAt: integer('created_at').notNull(),
  /**
   * sha256 of what was asked (agent, scope, action, canonical payload, conversation): the unique
   * index below lets one agent have one pending approval per request across gateway processes.
   * NULL on rows from before it (NULLs never collide), which were deduplicated in-process only.
   */
  fingerprint: text('fingerprint')
}, (t) => [
  index('approvals_ws').on(t.workspaceId, t.status),
  uniqueIndex('approvals_pending_fingerprint').on(t.agentId, t.fingerprint).where(sql`status = 'pending'`)
])

export const agentMemory = sqliteTable('agent_memory', {
  agentId: text('agent_id').notNull().references(() => agents.id),
  scope: text('scope', { enum: ['global', 'conversation', 'task'] }).notNull(),
  scopeId: text('scope_id').notNull().default(''),
  key: text('key').notNull(),
  value: text('value', { mode: 'json' }),
  updatedAt: integer('updated_at').notNull()
}, (t) => [primaryKey({ columns: [t.agentId, t.scope, t.scopeId, t.key] })])

/**
 * A person's account at an OpenID Connect provider (OIDC_ISSUER), linked once: later sign-ins
 * find the user by (issuer, subject), never by email, since a provider may reassign an email.
 * One identity per user per issuer, so a second provider account cannot silently take over.
 */
export const oidcIdentities = sqliteTable('oidc_identities', {
  issuer: text('issuer').notNull(),
  subject: text('subject').notNull(),
  userId: text('user_id').notNull().references(() => users.id),
  /** The verified email the link was made with (shown to admins; not used to sign in). */
  email: text('email').notNull(),
  createdAt: integer('created_at').notNull()
}, (t) => [primaryKey({ columns: [t.issuer, t.subject] }), uniqueIndex('oidc_identities_user').on(t.issuer, t.userId)])

/**
 * Short-lived, single-use OIDC state kept on the server: `login` rows hold a sign-in's nonce and
 * PKCE verifier (id = hex(sha256(state))), `link` rows a provider identity waiting for the
 * member's password (id = hex(sha256(link token))). Deleted when used or expired.
 */
export const oidcPending = sqliteTable('oidc_pending', {
  id: text('id').primaryKey(),
  purpose: text('purpose', { enum: ['login', 'link'] }).notNull(),
  data: text('data', { mode: 'json' }).notNull(),
  expiresAt: integer('expires_at').notNull()
}, (t) => [index('oidc_pending_expires').on(t.expiresAt)])

/**
 * What admins did, newest first in the admin page: who (`actor_id`), what (`action`, e.g.
 * 'member.role'), to whom (`target_kind`/`target_id`), and the details (before/after). Append-only.
 */
export const adminAudit = sqliteTable('admin_audit', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  workspaceId: text('workspace_id').notNull(),
  actorId: text('actor_id').notNull(),
  action: text('action').notNull(),
  targetKind: text('target_kind').notNull(),
  targetId: text('target_id').notNull(),
  detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  createdAt: integer('created_at').notNull()
}, (t) => [index('admin_audit_ws').on(t.workspaceId, t.id)])

/**
 * A channel's inbound email address, `<channel>+<secret>@INBOUND_DOMAIN` (inbound-email/). The
 * SMTP listener finds the channel by hex(sha256(secret)) at RCPT TO; the sealed copy (server key)
 * lets the channel's managers see the address again. Rotating replaces both, so the old address
 * is refused from that moment. `member_id` is the channel's Email member, the author of its mail.
 */
export const inboundAddresses = sqliteTable('inbound_addresses', {
  conversationId: text('conversation_id').primaryKey().references(() => conversations.id),
  secretHash: text('secret_hash').notNull().unique(),
  secretCipher: text('secret_cipher').notNull(),
  memberId: text('member_id').notNull().references(() => members.id),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: integer('updated_at').notNull()
})
