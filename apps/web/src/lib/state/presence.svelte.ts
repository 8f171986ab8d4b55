/**
 * Who is online, through Yjs awareness on the workspace's `dir:` doc: every signed-in tab
 * publishes `{memberId, status}`, and the server publishes the socket agents connected to it
 * (`agentsOnline`). The relay accepts awareness on read-only docs (it is not a doc update) and
 * drops a connection's states when it closes, so "offline" is simply no state.
 */
import type { SyncedDoc } from '$lib/sync';

export type PresenceStatus = 'online' | 'away' | 'offline';

/** Hidden or idle this long → away (Slack's desktop client uses minutes, not seconds). */
export const AWAY_AFTER_MS = 5 * 60_000;
const CHECK_EVERY_MS = 30_000;

export class Presence {
	#statuses = $state.raw<Map<string, 'online' | 'away'>>(new Map());
	#lastInput = Date.now();
	#hiddenSince: number | null = null;

	constructor(dir: () => SyncedDoc, memberId: string) {
		$effect(() => {
			const awareness = dir().awareness;
			if (!awareness) return;
			awareness.setLocalStateField('memberId', memberId);
			awareness.setLocalStateField('status', this.#mine());
			const read = () => {
				const next = new Map<string, 'online' | 'away'>();
				for (const state of awareness.getStates().values()) {
					const s = state as { memberId?: unknown; status?: unknown; agentsOnline?: unknown };
					// The server's own state: socket agents connected to it (they open no docs).
					if (Array.isArray(s.agentsOnline)) for (const id of s.agentsOnline) if (typeof id === 'string') next.set(id, 'online');
					if (typeof s.memberId !== 'string') continue;
					if (s.status === 'online') next.set(s.memberId, 'online');
					else if (s.status === 'away' && !next.has(s.memberId)) next.set(s.memberId, 'away');
				}
				this.#statuses = next;
			};
			read();
			awareness.on('change', read);
			const update = () => {
				const status = this.#mine();
				if (awareness.getLocalState()?.status !== status) awareness.setLocalStateField('status', status);
			};
			const input = () => {
				this.#lastInput = Date.now();
				update();
			};
			const visibility = () => {
				this.#hiddenSince = document.hidden ? Date.now() : null;
				if (!document.hidden) input();
			};
			const timer = setInterval(update, CHECK_EVERY_MS);
			const opts = { passive: true, capture: true } as const;
			window.addEventListener('pointerdown', input, opts);
			window.addEventListener('keydown', input, opts);
			document.addEventListener('visibilitychange', visibility);
			return () => {
				awareness.off('change', read);
				clearInterval(timer);
				window.removeEventListener('pointerdown', input, opts);
				window.removeEventListener('keydown', input, opts);
				document.removeEventListener('visibilitychange', visibility);
			};
		});
	}

	#mine(now = Date.now()): 'online' | 'away' {
		if (this.#hiddenSince !== null && now - this.#hiddenSince >= AWAY_AFTER_MS) return 'away';
		return now - this.#lastInput >= AWAY_AFTER_MS ? 'away' : 'online';
	}

	status(memberId: string): PresenceStatus {
		return this.#statuses.get(memberId) ?? 'offline';
	}
}
