/**
 * Which conversations have a snapshot (snapshots.ts) and erasing them: in the shell, for sign-out
 * and for a conversation I no longer belong to; reading and writing one load with the conversation.
 */
export const PREFIX = 'circlechat:snapshot:';
const INDEX = 'circlechat:snapshots';

/** Conversations with a snapshot, most recently shown last. */
export function index(): string[] {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(INDEX) ?? '[]');
		return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
	} catch {
		return [];
	}
}

export function setIndex(ids: string[]) {
	if (ids.length === 0) localStorage.removeItem(INDEX);
	else localStorage.setItem(INDEX, JSON.stringify(ids));
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
