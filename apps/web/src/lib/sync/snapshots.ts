/**
 * The newest messages of the last conversations shown, kept in localStorage so a conversation
 * whose docs are in IndexedDB (a reload, a new tab) paints at once, before its segment (up to
 * 1,000 messages) is read back and decoded; the docs' rows replace it by id once loaded.
 * A snapshot only ever stands in for docs this browser holds: it is erased with them on sign-out,
 * and dropped as soon as my `me:` doc no longer lists its conversation (left, removed).
 */
import type { Message } from '@circlechat/model';
import { dropSnapshot, index, PREFIX, setIndex } from './snapshot-index';

/** Conversations kept. */
const MAX_CONVERSATIONS = 10;
/** A larger snapshot (long messages) is not kept: localStorage is small and read synchronously. */
const MAX_BYTES = 100_000;

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
