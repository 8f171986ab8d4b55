/**
 * The one REST client (docs/api.md). Every call is typed; a non-2xx answer throws ApiRequestError
 * carrying the server's `message`, which forms show as-is (the server words it for people).
 */
import type { ApiError } from '@circlechat/protocol';

export type Role = 'admin' | 'member';

export interface User {
	id: string;
	email: string;
}

export interface Member {
	id: string;
	kind: 'user' | 'agent';
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
}

export interface Conversation {
	id: string;
	kind: 'channel' | 'dm';
	name: string;
	topic: string;
	isPrivate: boolean;
	memberIds: string[];
	liveSegment: number;
	unreadCount: number;
	unreadMentions: number;
}

export interface BrowseChannel {
	id: string;
	name: string;
	topic: string;
	memberCount: number;
	joined: boolean;
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

export interface NewChannelInput {
	name: string;
	isPrivate?: boolean;
	topic?: string;
	memberIds?: string[];
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

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

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
	signup: (input: SignupInput) => request<Session>('POST', '/auth/signup', input),
	login: (email: string, password: string) => request<Session>('POST', '/auth/login', { email, password }),
	logout: () => request<{ ok: true }>('POST', '/auth/logout', {}),
	createInvite: (email: string, role: Role) =>
		request<{ url: string; token: string }>('POST', '/auth/invite', { email, role }),
	getInvite: (token: string) =>
		request<{ workspace: { name: string; handle: string }; email: string }>(
			'GET',
			`/auth/invite/${encodeURIComponent(token)}`
		),
	acceptInvite: (input: AcceptInviteInput) => request<Session>('POST', '/auth/accept-invite', input),
	members: () => request<{ members: Member[] }>('GET', '/members'),
	conversations: () => request<{ conversations: Conversation[] }>('GET', '/conversations'),
	createChannel: (input: NewChannelInput) =>
		request<{ conversation: Conversation }>('POST', '/conversations', { kind: 'channel', ...input }),
	openDm: (memberIds: string[]) =>
		request<{ conversation: Conversation }>('POST', '/conversations', { kind: 'dm', memberIds }),
	browseChannels: () => request<{ channels: BrowseChannel[] }>('GET', '/conversations/browse'),
	join: (id: string) => request<{ conversation: Conversation }>('POST', `/conversations/${id}/join`, {}),
	leave: (id: string) => request<{ ok: true }>('POST', `/conversations/${id}/leave`, {}),
	addMembers: (id: string, memberIds: string[]) =>
		request<{ conversation: Conversation }>('POST', `/conversations/${id}/members`, { memberIds })
};

/** The message to show a person for any thrown value. */
export function errorMessage(err: unknown): string {
	if (err instanceof Error) return err.message;
	return 'Something went wrong. Try again.';
}
