/**
 * What the person sees of local-first: online / offline / syncing with the count of unsent
 * changes over every open doc (the doc pool keeps each doc with unsent changes open until they
 * land), which conversations hold unsent work, and the changes the server refused — kept in
 * IndexedDB with their text until dismissed, never dropped.
 *
 * A private channel I was removed from while offline refuses my upgrade (HTTP 403: the browser
 * cannot tell it from a network error), so the `me:` doc is the witness: once it is synced and
 * no longer lists the conversation, that conversation's unsent changes are set aside as refused.
 */
import { docPool, refusedStore, type RefusedRecord } from '$lib/sync';
import type { WorkspaceState } from './workspace.svelte';

export type ConnectionState = 'online' | 'offline' | 'syncing';

export const NOT_A_MEMBER = 'You are no longer a member of this conversation, so it was not sent.';

export class OfflineState {
	#ws: WorkspaceState;
	#online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
	#refused = $state.raw<RefusedRecord[]>([]);

	constructor(ws: WorkspaceState) {
		this.#ws = ws;
		$effect(() => {
			const update = () => (this.#online = navigator.onLine);
			window.addEventListener('online', update);
			window.addEventListener('offline', update);
			return () => {
				window.removeEventListener('online', update);
				window.removeEventListener('offline', update);
			};
		});
		$effect(() => {
			const load = () =>
				void refusedStore.load().then(
					(all) => (this.#refused = all),
					() => {}
				);
			load();
			return refusedStore.subscribe(load);
		});
		$effect(() => {
			if (!ws.conversationsReady) return;
			for (const doc of docPool.docs) {
				const id = doc.conversationId;
				if (!id || doc.unsynced === 0 || ws.conversation(id)) continue;
				// Connected and synced means the relay still lets me in: the me: doc is only behind.
				if (doc.status === 'synced' || doc.status === 'handshaking') continue;
				void doc.abandon('notMember', NOT_A_MEMBER);
			}
		});
	}

	get online(): boolean {
		return this.#online;
	}

	/** Local changes not yet acknowledged, over every open doc. */
	get unsynced(): number {
		return docPool.unsynced;
	}

	get state(): ConnectionState {
		if (!this.#online) return 'offline';
		const docs = docPool.docs;
		if (this.unsynced > 0 || docs.some((d) => d.status === 'connecting' || d.status === 'handshaking')) return 'syncing';
		return docs.length > 0 && docs.every((d) => d.status === 'offline' || d.status === 'error') ? 'offline' : 'online';
	}

	/** The conversation has changes not yet on the server (the sidebar's clock). */
	hasUnsent(conversationId: string): boolean {
		return docPool.unsentConversations.has(conversationId);
	}

	/** Refused changes, oldest first, until dismissed. */
	get refused(): RefusedRecord[] {
		return this.#refused;
	}

	/** Where a refused change was written, for the notice ("#launch", "a conversation you left"). */
	where(r: RefusedRecord): string {
		const c = r.conversationId ? this.#ws.conversation(r.conversationId) : undefined;
		if (c) return c.kind === 'channel' ? `#${this.#ws.title(c)}` : this.#ws.title(c);
		return r.conversationId ? 'a conversation you are no longer in' : 'your settings';
	}

	dismiss(keys: string[]) {
		this.#refused = this.#refused.filter((r) => !keys.includes(r.key));
		void refusedStore.remove(keys);
	}
}
