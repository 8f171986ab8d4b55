/**
 * A list the REST API serves and nothing pushes: fetched when someone starts showing it, then
 * every `pollMs` while anyone `watch()`es and the tab is visible. Several watchers asking at once
 * share one request. The approvals and the task index are both kept this way.
 */
import { errorMessage } from '$lib/api';

export class PolledList<T> {
	#items = $state.raw<T[]>([]);
	#loaded = $state(false);
	#error = $state<string | null>(null);
	#watchers = 0;
	#timer: ReturnType<typeof setInterval> | null = null;
	#inflight: Promise<void> | null = null;
	readonly #fetch: () => Promise<T[]>;
	readonly #pollMs: number;

	constructor(fetch: () => Promise<T[]>, pollMs: number) {
		this.#fetch = fetch;
		this.#pollMs = pollMs;
	}

	get items(): T[] {
		return this.#items;
	}
	get loaded(): boolean {
		return this.#loaded;
	}
	get error(): string | null {
		return this.#error;
	}

	refresh(): Promise<void> {
		this.#inflight ??= (async () => {
			try {
				const items = await this.#fetch();
				this.#items = Array.isArray(items) ? items : [];
				this.#error = null;
			} catch (err) {
				this.#error = errorMessage(err);
			} finally {
				this.#loaded = true;
				this.#inflight = null;
			}
		})();
		return this.#inflight;
	}

	/** Keeps the list fresh while the caller is mounted; returns the stop function for `$effect`. */
	watch(): () => void {
		this.#watchers++;
		// Whoever starts showing the list wants it current, not up to one poll old.
		void this.refresh();
		if (this.#watchers === 1) {
			this.#timer = setInterval(() => {
				if (document.visibilityState === 'visible') void this.refresh();
			}, this.#pollMs);
		}
		return () => {
			this.#watchers--;
			if (this.#watchers === 0 && this.#timer) {
				clearInterval(this.#timer);
				this.#timer = null;
			}
		};
	}
}
