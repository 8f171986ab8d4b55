/**
 * The one REST client (docs/api.md). Every call is typed; a non-2xx answer throws ApiRequestError
 * carrying the server's `message`, which forms show as-is (the server words it for people).
 */
import type { ApiError } from '@circlechat/protocol';
import type { Attachment, FileKind, MessageCard, Reaction } from '@circlechat/model';

export type Role = 'admin' | 'member' | 'guest';

export interface User {
	id: string;
	email: string;
}

export interface Member {
	id: string;
	kind: 'user' | 'agent' | 'bot';
	name: string;
	handle: string;
	role: Role;
	avatar: string | null;
	title: string | null;
	reportsTo: string | null;
}

export interface Workspace {
	id: string;
	name: string;
	handle: string;
	/** The icon's URL, or null. */
	icon?: string | null;
}

/** A member as the admin page lists it (`GET /api/members?all=1`): deactivated ones included. */
export interface AdminMember extends Member {
	deactivated: boolean;
}

/** An invite link or an email invite, as admins see it (never its token). */
export interface InviteInfo {
	id: string;
	kind: 'email' | 'link';
	email: string | null;
	role: Role;
	channelIds: string[];
	createdBy: string;
	createdAt: number | null;
	expiresAt: number;
	revokedAt: number | null;
	uses: number;
	status: 'active' | 'expired' | 'revoked' | 'used';
}

/** One admin action (`GET /api/admin/audit`). */
export interface AuditEntry {
	id: number;
	actorId: string;
	action: string;
	targetKind: 'workspace' | 'member' | 'invite';
	targetId: string;
	detail: Record<string, unknown>;
	at: number;
}

export interface Conversation {
	id: string;
	kind: 'channel' | 'dm';
	name: string;
	topic: string;
	description: string;
	isPrivate: boolean;
	createdBy: string;
	archivedAt: number | null;
	memberIds: string[];
	liveSegment: number;
	unreadCount: number;
	unreadMentions: number;
}

/** A message as the REST API shows it (docs/api.md). */
export interface ApiMessage {
	id: string;
	conversationId: string;
	memberId: string;
	bodyMd: string;
	parentId: string | null;
	createdAt: number;
	editedAt: number | null;
	deleted: boolean;
	mentions: string[];
	reactions: Reaction[];
	attachments: Attachment[];
	threadCount: number;
	lastReplyAt: number | null;
	card: MessageCard | null;
}

export interface SearchHit {
	messageId: string;
	conversationId: string;
	/** HTML-escaped text with matches in `<mark>`; sanitise before showing anyway. */
	snippet: string;
	ts: string;
	memberId: string;
}

export interface SearchQuery {
	q: string;
	conversationId?: string;
	from?: string;
	limit?: number;
}

/** One attached file, as the Files page lists it (`GET /api/files`). */
export interface FileEntry {
	key: string;
	name: string;
	contentType: string;
	size: number;
	url: string;
	width?: number;
	height?: number;
	kind: FileKind;
	thumbUrl: string | null;
	/** The uploader. */
	memberId: string;
	conversationId: string;
	/** The message or thread reply attaching it; null when a task comment does. */
	messageId: string | null;
	/** The task comment attaching it (on the conversation's board), and its task; null for a message. */
	taskId: string | null;
	commentId: string | null;
	/** When it was attached. */
	createdAt: number;
}

export interface FileQuery {
	conversationId?: string;
	kind?: FileKind;
	q?: string;
}

/** One entry of the Mentions & reactions view (`GET /api/activity`). */
export type ActivityItem =
	| { kind: 'mention'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string }
	| { kind: 'reaction'; at: number; by: string; conversationId: string; messageId: string; parentId: string | null; bodyMd: string; emoji: string }
	| { kind: 'task_mention'; at: number; by: string; conversationId: string | null; taskId: string; commentId: string };

export interface BrowseChannel {
	id: string;
	name: string;
	topic: string;
	memberCount: number;
	joined: boolean;
	/** Read-only: opened to read, never written to. */
	archived: boolean;
}

export interface Session {
	user: User;
	member: Member;
	workspace: Workspace;
}

export interface SignupInput {
	email: string;
	password: string;
	name: string;
	handle: string;
	workspaceName: string;
}

export interface AcceptInviteInput {
	token: string;
	email: string;
	name: string;
	handle: string;
	password: string;
}

/** The signed-in person's own settings (`GET /api/profile`). */
export interface Profile {
	member: Member;
	email: string;
	mentionDigest: boolean;
	/** 'log': no SMTP_URL, so no mail leaves the server (digests are off). */
	mail: 'smtp' | 'log';
}

export interface ProfilePatch {
	name?: string;
	handle?: string;
	title?: string | null;
	/** A key from POST /api/uploads (an image); null removes the avatar. */
	avatarKey?: string | null;
	mentionDigest?: boolean;
}

/** One signed-in browser or device of mine (`GET /api/profile/sessions`). */
export interface SessionInfo {
	id: string;
	createdAt: number | null;
	lastSeenAt: number | null;
	userAgent: string | null;
	ip: string | null;
	expiresAt: number;
	current: boolean;
}

export interface NewChannelInput {
	name: string;
	isPrivate?: boolean;
	topic?: string;
	memberIds?: string[];
}

export type AgentAdapter = 'webhook' | 'socket' | 'peer';
export type AgentStatus = 'idle' | 'running' | 'error';

export interface Agent {
	id: string;
	memberId: string;
	name: string;
	handle: string;
	title: string | null;
	avatar: string | null;
	reportsTo: string | null;
	adapter: AgentAdapter;
	callbackUrl: string | null;
	brief: string;
	model: string | null;
	scopes: string[];
	heartbeatIntervalSec: number;
	status: AgentStatus;
	lastError: string | null;
	lastRunAt: number | null;
	createdAt: number;
}

export interface ProvisionAgentInput {
	name: string;
	handle: string;
	adapter: AgentAdapter;
	callbackUrl?: string;
	title?: string;
	brief?: string;
	model?: string;
	avatar?: string;
	heartbeatIntervalSec?: number;
	reportsTo?: string;
	channelIds?: string[];
}

export type AgentPatch = Partial<Pick<ProvisionAgentInput, 'name' | 'title' | 'brief' | 'model' | 'avatar' | 'heartbeatIntervalSec' | 'callbackUrl'>> & {
	reportsTo?: string | null;
};

/** One applied action of a run, by its index in the agent's reply. */
export interface RunApplied {
	index: number;
	type: string;
	result?: unknown;
}

/** One refused action (or a reply-level problem when `index` is -1) with the reason. */
export interface RunError {
	index: number;
	type: string;
	error: string;
}

export interface RunUsage {
	provider?: string;
	model?: string;
	inputTokens?: number;
	outputTokens?: number;
	costUsd?: number;
}

export interface AgentRun {
	id: string;
	trigger: string;
	conversationId: string | null;
	messageId: string | null;
	status: 'queued' | 'running' | 'ok' | 'silent' | 'error';
	attempts: number;
	packet: unknown;
	reply: string | null;
	applied: RunApplied[] | null;
	errors: RunError[] | null;
	trace: string[] | null;
	usage: RunUsage | null;
	costUsd: number | null;
	startedAt: number | null;
	finishedAt: number | null;
	durationMs: number | null;
	createdAt: number;
}

export interface AgentMemory {
	scope: 'global' | 'conversation' | 'task';
	scopeId: string;
	/** `#channel`, a DM's handles, a task's title; null for global memory or a scope that is gone. */
	scopeName: string | null;
	key: string;
	value: unknown;
	updatedAt: number;
}

export interface AgentDetail {
	agent: Agent;
	connected: boolean;
	runs: AgentRun[];
	totals: { runs: number; costUsd: number };
	memory: AgentMemory[];
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

export interface Approval {
	id: string;
	agentId: string;
	agentHandle: string;
	agentName: string;
	conversationId: string | null;
	messageId: string | null;
	scope: string;
	action: string;
	payload: unknown;
	status: ApprovalStatus;
	note: string | null;
	decidedByHandle: string | null;
	decidedAt: number | null;
	createdAt: number;
	canDecide: boolean;
}

/** A task as GET /api/tasks lists it (docs/api.md); its board doc is `board:<conversationId ?? workspaceId>`. */
export interface TaskSummary {
	id: string;
	/** null: the workspace's board, tied to no conversation. */
	conversationId: string | null;
	conversationName: string | null;
	title: string;
	status: 'backlog' | 'in_progress' | 'review' | 'done';
	blocked: boolean;
	position: string;
	progress: number;
	dueAt: number | null;
	parentId: string | null;
	assignees: string[];
	labels: string[];
	commentCount: number;
	subtasks: { id: string; title: string; status: string; assignees: string[] }[];
	createdBy: string;
	createdAt: number;
	updatedAt: number;
}

export interface TaskQuery {
	conversationId?: string;
	assignee?: string;
	status?: string;
}

export interface NewTaskInput {
	conversationId?: string | null;
	title: string;
	bodyMd?: string;
	source?: { conversationId: string; messageId: string };
}

export class ApiRequestError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
		this.name = 'ApiRequestError';
	}
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface InboundEmail {
	enabled: boolean;
	address: string | null;
	memberId: string | null;
	/** False when the server runs no SMTP listener (SMTP_INBOUND_PORT unset). */
	listening: boolean;
}

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
	let res: Response;
	try {
		res = await fetch(`/api${path}`, {
			method,
			credentials: 'same-origin',
			headers: body === undefined ? undefined : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	} catch {
		throw new ApiRequestError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
	}
	const text = await res.text();
	let data: unknown = null;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = null;
		}
	}
	if (!res.ok) {
		const err = (data ?? {}) as Partial<ApiError>;
		throw new ApiRequestError(
			res.status,
			err.error ?? `http_${res.status}`,
			err.message ?? `The server answered ${res.status}. Try again in a moment.`
		);
	}
	return data as T;
}

export const api = {
	me: () => request<Session>('GET', '/me'),
	setup: () => request<{ hasWorkspace: boolean }>('GET', '/auth/setup'),
	/** Single sign-on: whether this server has a provider (OIDC_*), its name, and OIDC_ONLY. */
	oidc: () => request<{ enabled: boolean; name: string | null; only: boolean }>('GET', '/auth/oidc'),
	oidcLinkInfo: () => request<{ email: string; provider: string }>('GET', '/auth/oidc/link'),
	oidcLink: (password: string) => request<{ ok: true }>('POST', '/auth/oidc/link', { password }),
	signup: (input: SignupInput) => request<Session>('POST', '/auth/signup', input),
	login: (email: string, password: string) => request<Session>('POST', '/auth/login', { email, password }),
	logout: () => request<{ ok: true }>('POST', '/auth/logout', {}),
	/** `channelIds`: a guest's channels, the only ones they join. */
	createInvite: (email: string, role: Role, channelIds: string[] = []) =>
		request<{ url: string; token: string; mailed?: boolean }>('POST', '/auth/invite', { email, role, ...(role === 'guest' ? { channelIds } : {}) }),
	getInvite: (token: string) =>
		request<{ workspace: { name: string; handle: string }; email: string; role: Role }>(
			'GET',
			`/auth/invite/${encodeURIComponent(token)}`
		),
	acceptInvite: (input: AcceptInviteInput) => request<Session>('POST', '/auth/accept-invite', input),
	/** Always the same answer, whether or not the address has an account. */
	forgotPassword: (email: string) => request<{ ok: true; message: string }>('POST', '/auth/forgot', { email }),
	getReset: (token: string) => request<{ email: string }>('GET', `/auth/reset/${encodeURIComponent(token)}`),
	resetPassword: (token: string, password: string) => request<{ ok: true }>('POST', '/auth/reset', { token, password }),
	profile: () => request<Profile>('GET', '/profile'),
	updateProfile: (patch: ProfilePatch) => request<Profile>('PATCH', '/profile', patch),
	changePassword: (currentPassword: string, newPassword: string) =>
		request<{ endedSessions: number }>('POST', '/profile/password', { currentPassword, newPassword }),
	sessions: () => request<{ sessions: SessionInfo[] }>('GET', '/profile/sessions'),
	endSession: (id: string) => request<{ ok: true }>('DELETE', `/profile/sessions/${encodeURIComponent(id)}`),
	endOtherSessions: () => request<{ ended: number }>('POST', '/profile/sessions/end-others', {}),
	/** One file through the upload path (multipart), answered with its record. */
	upload: async (file: File): Promise<{ key: string; name: string; contentType: string; url: string }> => {
		const form = new FormData();
		form.append('file', file, file.name);
		let res: Response;
		try {
			res = await fetch('/api/uploads', { method: 'POST', credentials: 'same-origin', body: form });
		} catch {
			throw new ApiRequestError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
		}
		const data = (await res.json().catch(() => ({}))) as Partial<ApiError> & { key?: string };
		if (!res.ok) throw new ApiRequestError(res.status, data.error ?? `http_${res.status}`, data.message ?? `The upload failed (${res.status}).`);
		return data as { key: string; name: string; contentType: string; url: string };
	},
	members: () => request<{ members: Member[] }>('GET', '/members'),
	conversations: () => request<{ conversations: Conversation[] }>('GET', '/conversations'),
	conversation: (id: string) => request<{ conversation: Conversation }>('GET', `/conversations/${encodeURIComponent(id)}`),
	createChannel: (input: NewChannelInput) =>
		request<{ conversation: Conversation }>('POST', '/conversations', { kind: 'channel', ...input }),
	openDm: (memberIds: string[]) =>
		request<{ conversation: Conversation }>('POST', '/conversations', { kind: 'dm', memberIds }),
	browseChannels: () => request<{ channels: BrowseChannel[] }>('GET', '/conversations/browse'),
	join: (id: string) => request<{ conversation: Conversation }>('POST', `/conversations/${id}/join`, {}),
	leave: (id: string) => request<{ ok: true }>('POST', `/conversations/${id}/leave`, {}),
	addMembers: (id: string, memberIds: string[]) =>
		request<{ conversation: Conversation }>('POST', `/conversations/${id}/members`, { memberIds }),
	removeMember: (id: string, memberId: string) =>
		request<{ conversation: Conversation }>('DELETE', `/conversations/${id}/members/${encodeURIComponent(memberId)}`),
	updateChannel: (id: string, changes: { name?: string; topic?: string; description?: string }) =>
		request<{ conversation: Conversation }>('PATCH', `/conversations/${id}`, changes),
	setArchived: (id: string, archived: boolean) =>
		request<{ conversation: Conversation }>('POST', `/conversations/${id}/${archived ? 'archive' : 'unarchive'}`, {}),
	pins: (id: string) => request<{ pins: Array<{ message: ApiMessage; pinnedBy: string; pinnedAt: number }> }>('GET', `/conversations/${id}/pins`),
	/** A channel's inbound email address; its creator and workspace admins only. */
	inboundEmail: (id: string) => request<{ inboundEmail: InboundEmail }>('GET', `/conversations/${id}/inbound-email`),
	enableInboundEmail: (id: string, rotate = false) => request<{ inboundEmail: InboundEmail }>('POST', `/conversations/${id}/inbound-email`, { rotate }),
	disableInboundEmail: (id: string) => request<{ inboundEmail: InboundEmail }>('DELETE', `/conversations/${id}/inbound-email`),
	setPinned: (messageId: string, pinned: boolean) =>
		request<{ ok: true }>(pinned ? 'POST' : 'DELETE', `/messages/${encodeURIComponent(messageId)}/pin`, pinned ? {} : undefined),
	latestMessages: (conversationId: string, limit = 1) =>
		request<{ messages: ApiMessage[]; hasMore: boolean }>('GET', `/conversations/${encodeURIComponent(conversationId)}/messages?limit=${limit}`),
	/** One message and the doc holding it (`conv:<id>:<segment>` or `thread:<root>`). */
	message: (id: string) => request<{ message: ApiMessage; doc: string }>('GET', `/messages/${encodeURIComponent(id)}`),
	search: (query: SearchQuery) => {
		const params = new URLSearchParams({ q: query.q });
		if (query.conversationId) params.set('conversationId', query.conversationId);
		if (query.from) params.set('from', query.from);
		if (query.limit) params.set('limit', String(query.limit));
		return request<{ results: SearchHit[] }>('GET', `/search?${params}`);
	},
	/** Files attached in my conversations, the newest attachment first. */
	files: (query: FileQuery = {}) => {
		const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]));
		return request<{ files: FileEntry[] }>('GET', `/files${params.size ? `?${params}` : ''}`);
	},
	agents: () => request<{ agents: Agent[] }>('GET', '/agents'),
	agent: (id: string) => request<AgentDetail>('GET', `/agents/${encodeURIComponent(id)}`),
	provisionAgent: (input: ProvisionAgentInput) =>
		request<{ id: string; memberId: string; handle: string; botToken: string; agent: Agent }>('POST', '/agents', input),
	updateAgent: (id: string, patch: AgentPatch) => request<{ agent: Agent }>('PATCH', `/agents/${encodeURIComponent(id)}`, patch),
	rotateAgentToken: (id: string) => request<{ botToken: string }>('POST', `/agents/${encodeURIComponent(id)}/rotate-token`, {}),
	testAgent: (id: string) => request<{ ok: true }>('POST', `/agents/${encodeURIComponent(id)}/test`, {}),
	/** Admins: a new entry in a scope both they and the agent reach (docs/agents.md). */
	createAgentMemory: (id: string, entry: Pick<AgentMemory, 'scope' | 'scopeId' | 'key' | 'value'>) =>
		request<{ entry: AgentMemory }>('POST', `/agents/${encodeURIComponent(id)}/memory`, entry),
	/** Admins: correct or forget one memory entry they can see (docs/api.md). */
	updateAgentMemory: (id: string, entry: Pick<AgentMemory, 'scope' | 'scopeId' | 'key' | 'value'>) =>
		request<{ entry: AgentMemory }>('PUT', `/agents/${encodeURIComponent(id)}/memory`, entry),
	deleteAgentMemory: (id: string, ref: Pick<AgentMemory, 'scope' | 'scopeId' | 'key'>) =>
		request<{ ok: boolean }>('DELETE', `/agents/${encodeURIComponent(id)}/memory`, ref),
	agentRun: (id: string, runId: string) =>
		request<{ run: AgentRun }>('GET', `/agents/${encodeURIComponent(id)}/runs/${encodeURIComponent(runId)}`),
	/** Tasks of every conversation I am in (and the workspace board's), from the index. */
	tasks: (query: TaskQuery = {}) => {
		const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]));
		return request<{ tasks: TaskSummary[] }>('GET', `/tasks${params.size ? `?${params}` : ''}`);
	},
	/** A task on a conversation's board (or the workspace's); `source` names the message it came from. */
	createTask: (input: NewTaskInput) => request<{ task: { id: string; conversationId: string | null } }>('POST', '/tasks', input),
	/** Mentions of me and reactions to my messages, newest first. */
	/** A page of my activity, newest first; `before`: the previous page's `nextBefore`. */
	activity: (before?: number) => request<{ items: ActivityItem[]; nextBefore: number | null }>('GET', `/activity${before ? `?before=${before}` : ''}`),
	/** Root messages of the threads I follow, the newest reply first, each with its newest live reply. */
	threads: () => request<{ threads: Array<ApiMessage & { lastReply: ApiMessage | null }> }>('GET', '/threads'),
	followThread: (rootId: string, on: boolean) =>
		request<{ following: boolean }>(on ? 'POST' : 'DELETE', `/threads/${encodeURIComponent(rootId)}/follow`, on ? {} : undefined),
	approvals: (status?: ApprovalStatus) =>
		request<{ approvals: Approval[] }>('GET', status ? `/approvals?status=${status}` : '/approvals'),
	decideApproval: (id: string, decision: 'approve' | 'deny', note?: string) =>
		request<{ ok: true; status: ApprovalStatus }>('POST', `/approvals/${encodeURIComponent(id)}/decide`, {
			decision,
			...(note ? { note } : {})
		}),
	// Admin settings (admins only; the server checks on every call).
	adminMembers: () => request<{ members: AdminMember[] }>('GET', '/members?all=1'),
	updateMember: (id: string, changes: { role?: Role; reportsTo?: string | null }) =>
		request<{ member: AdminMember }>('PATCH', `/members/${encodeURIComponent(id)}`, changes),
	deactivateMember: (id: string) => request<{ member: Member }>('POST', `/members/${encodeURIComponent(id)}/deactivate`, {}),
	reactivateMember: (id: string) => request<{ member: Member }>('POST', `/members/${encodeURIComponent(id)}/reactivate`, {}),
	updateWorkspace: (changes: { name?: string; icon?: string | null }) => request<{ workspace: Workspace }>('PATCH', '/admin/workspace', changes),
	invites: () => request<{ invites: InviteInfo[] }>('GET', '/admin/invites'),
	createInviteLink: (input: { role: 'member' | 'guest'; expiresInHours: number; channelIds: string[] }) =>
		request<{ invite: InviteInfo; url: string; token: string }>('POST', '/admin/invites', input),
	revokeInvite: (id: string) => request<{ invite: InviteInfo }>('POST', `/admin/invites/${encodeURIComponent(id)}/revoke`, {}),
	audit: (before?: number) => request<{ entries: AuditEntry[]; next: number | null }>('GET', `/admin/audit?limit=50${before ? `&before=${before}` : ''}`)
};

/** The message to show a person for any thrown value. */
export function errorMessage(err: unknown): string {
	if (err instanceof Error) return err.message;
	return 'Something went wrong. Try again.';
}
