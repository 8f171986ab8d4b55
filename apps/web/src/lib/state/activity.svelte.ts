/**
 * Mentions of me and reactions to my messages (GET /api/activity), for the Mentions & reactions
 * view and its sidebar count. Refetched when my `me:` doc says something changed (unread counts
 * move on a mention, `reactionsToMe` on a reaction, `taskMentions` on a task comment) and polled
 * as a fallback. What I have seen is the time I last opened the view, kept in this browser.
 */
import { meReactionsToMeOf, meTaskMentionsOf, meUnreadOf } from '@circlechat/model';
import { api, type ActivityItem } from '$lib/api';
import { PolledList } from './polled-list.svelte';
import type { WorkspaceState } from './workspace.svelte';

const POLL_MS = 30_000;
/** Several me-doc changes in a burst cost one request. */
const SETTLE_MS = 300;

export class Activity extends PolledList<ActivityItem> {
	#ws: WorkspaceState;
	#seen = $state(0);

	constructor(ws: WorkspaceState) {
		super(async () => (await api.activity()).items, POLL_MS);
		this.#ws = ws;
		this.#seen = Number(localStorage.getItem(this.#key) ?? 0) || 0;
	}

	get #key() {
		return `circlechat:activity-seen:${this.#ws.me.id}`;
	}

	/** When I last opened the view: newer items are unread. */
	get seen(): number {
		return this.#seen;
	}

	get unreadCount(): number {
		return this.items.filter((i) => i.at > this.#seen).length;
	}

	/** The view is open: everything listed so far is seen. */
	markSeen() {
		const at = Math.max(this.#seen, ...this.items.map((i) => i.at));
		if (at === this.#seen) return;
		this.#seen = at;
		localStorage.setItem(this.#key, String(at));
	}

	override watch(): () => void {
		const stop = super.watch();
		// Reads `doc` here so an effect calling watch() follows the me: doc across resets.
		const doc = this.#ws.meDoc.doc;
		const maps = [meUnreadOf(doc), meReactionsToMeOf(doc), meTaskMentionsOf(doc)];
		let timer: ReturnType<typeof setTimeout> | undefined;
		const changed = () => {
			clearTimeout(timer);
			timer = setTimeout(() => void this.refresh(), SETTLE_MS);
		};
		for (const m of maps) m.observe(changed);
		return () => {
			clearTimeout(timer);
			for (const m of maps) m.unobserve(changed);
			stop();
		};
	}
}

const byWorkspace = new WeakMap<WorkspaceState, Activity>();

export function activityOf(ws: WorkspaceState): Activity {
	let activity = byWorkspace.get(ws);
	if (!activity) byWorkspace.set(ws, (activity = new Activity(ws)));
	return activity;
}
