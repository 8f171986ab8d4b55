/**
 * The header search: the query, its parsed filters and the results panel. Lives in the workspace
 * shell (not a conversation) so the panel survives moving between conversations.
 */
import { api, errorMessage, type SearchHit } from '$lib/api';
import { parseSearch } from '$lib/search-query';
import type { WorkspaceState } from './workspace.svelte';

export class SearchState {
	#ws: WorkspaceState;
	query = $state('');
	open = $state(false);
	#results = $state.raw<SearchHit[]>([]);
	#loading = $state(false);
	#error = $state<string | null>(null);
	#seq = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(ws: WorkspaceState) {
		this.#ws = ws;
	}

	get results(): SearchHit[] {
		return this.#results;
	}
	get loading(): boolean {
		return this.#loading;
	}
	get error(): string | null {
		return this.#error;
	}
	get parsed() {
		return parseSearch(this.query);
	}
	/** The `in:` channel, if it names one of mine. */
	get channelId(): string | undefined {
		const name = this.parsed.channel;
		return name ? this.#ws.channels.find((c) => c.name === name)?.id : undefined;
	}

	/** Runs the query a moment after typing stops (each keystroke would be a request). */
	schedule(delay = 200) {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => void this.run(), delay);
	}

	async run() {
		clearTimeout(this.#timer);
		const { text, channel, from } = this.parsed;
		this.open = true;
		const seq = ++this.#seq;
		if (!text) {
			this.#results = [];
			this.#error = null;
			return;
		}
		if (channel && !this.channelId) {
			this.#results = [];
			this.#error = `You are not in a channel named #${channel}.`;
			return;
		}
		this.#loading = true;
		try {
			const { results } = await api.search({ q: text, conversationId: this.channelId, from: from ? `@${from}` : undefined, limit: 30 });
			if (seq !== this.#seq) return;
			this.#results = results;
			this.#error = null;
		} catch (err) {
			if (seq !== this.#seq) return;
			this.#results = [];
			this.#error = errorMessage(err);
		} finally {
			if (seq === this.#seq) this.#loading = false;
		}
	}

	close() {
		this.open = false;
	}
}
