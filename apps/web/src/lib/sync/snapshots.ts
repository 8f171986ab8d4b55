/**
 * The newest messages of the last conversations shown, kept in localStorage so a conversation
 * whose docs are in IndexedDB (a reload, a new tab) paints at once, before its segment (up to
 * 1,000 messages) is read back and decoded; the docs' rows replace it by id once loaded.
 * A snapshot only ever stands in for docs this browser holds: it is erased with them on sign-out,
 * and dropped as soon as my `me:` doc no longer lists its conversation (left, removed).
 */
import type { Message } from '@circlechat/model';

const PREFIX = 'circlechat:snapshot:';
const INDEX = 'circlechat:snapshots';
/** Conversations kept, most recently shown last. */
const MAX_CONVERSATIONS = 10;
/** A larger snapshot (long messages) is not kept: localStorage is small and read synchronously. */
const MAX_BYTES = 100_000;

function index(): string[] {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(INDEX) ?? '[]');
		return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
	} catch {
		return [];
	}
}

function setIndex(ids: string[]) {
	if (ids.length === 0) localStorage.removeItem(INDEX);
	else localStorage.setItem(INDEX, JSON.stringify(ids));
}

/** What is kept: the newest messages of the segments a conversation opens with, up to `live`. */
interface Snapshot {
	live: number;
	messages: Message[];
}

/**
 * The snapshot of a conversation whose live segment is `live`, or null. One taken before a
 * rollover is not shown: it may hold messages of a segment that no longer opens by default, which
 * would vanish when the docs take over. A malformed one is dropped.
 */
export function readSnapshot(conversationId: string, live: number): Message[] | null {
	try {
		const raw = localStorage.getItem(PREFIX + conversationId);
		if (!raw) return null;
		const parsed = JSON.parse(raw) as Partial<Snapshot> | null;
		const messages: unknown = parsed?.messages;
		if (typeof parsed?.live === 'number' && Array.isArray(messages) && messages.every((m) => typeof (m as Message)?.id === 'string' && typeof (m as Message).createdAt === 'number')) {
			return parsed.live === live ? (messages as Message[]) : null;
		}
	} catch {
		// fall through: not ours to show
	}
	dropSnapshot(conversationId);
	return null;
}

export function saveSnapshot(conversationId: string, live: number, messages: Message[]) {
	const ids = index().filter((id) => id !== conversationId);
	ids.push(conversationId);
	for (const old of ids.splice(0, Math.max(0, ids.length - MAX_CONVERSATIONS))) localStorage.removeItem(PREFIX + old);
	const raw = JSON.stringify({ live, messages } satisfies Snapshot);
	try {
		if (messages.length === 0 || raw.length > MAX_BYTES) throw new RangeError('not kept');
		localStorage.setItem(PREFIX + conversationId, raw);
		setIndex(ids);
	} catch {
		// Too large or the quota is full: the docs show it, a moment later.
		localStorage.removeItem(PREFIX + conversationId);
		setIndex(ids.filter((id) => id !== conversationId));
	}
}

export function dropSnapshot(conversationId: string) {
	localStorage.removeItem(PREFIX + conversationId);
	const ids = index();
	if (ids.includes(conversationId)) setIndex(ids.filter((id) => id !== conversationId));
}

/** Drops the snapshots of conversations not in `mine` (my `me:` doc's list, once synced). */
export function keepSnapshotsOf(mine: (id: string) => boolean) {
	for (const id of index()) if (!mine(id)) dropSnapshot(id);
}

export function clearSnapshots() {
	for (const id of index()) localStorage.removeItem(PREFIX + id);
	localStorage.removeItem(INDEX);
}
