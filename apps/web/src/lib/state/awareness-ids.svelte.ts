import type { Awareness } from 'y-protocols/awareness';
import type { SyncedDoc } from '$lib/sync';

/**
 * Member ids picked out of a doc's awareness states (who is typing, which agents are thinking),
 * kept current as states change. Call from a component's script: it registers an $effect.
 */
export function awarenessIds(synced: () => SyncedDoc, pick: (awareness: Awareness) => string[]): { readonly ids: string[] } {
	let ids = $state.raw<string[]>([]);
	$effect(() => {
		const awareness = synced().awareness;
		if (!awareness) return;
		// Compared with a plain copy: reading `ids` here would make the effect depend on what it writes.
		let last = '';
		const read = () => {
			const next = pick(awareness);
			if (next.join() !== last) {
				last = next.join();
				ids = next;
			}
		};
		read();
		awareness.on('change', read);
		return () => {
			awareness.off('change', read);
			ids = [];
		};
	});
	return {
		get ids() {
			return ids;
		}
	};
}

/** Agents the server says are running for this conversation: its `{thinking: [memberId…]}`. */
export function thinkersOf(awareness: Awareness): string[] {
	const found = new Set<string>();
	for (const state of awareness.getStates().values()) {
		const thinking = (state as { thinking?: unknown }).thinking;
		if (Array.isArray(thinking)) for (const id of thinking) if (typeof id === 'string') found.add(id);
	}
	return [...found].sort();
}
