/**
 * Mentions of me and reactions to my messages (GET /api/activity), for the Mentions & reactions
 * view and its sidebar count. Refetched when my `me:` doc says something changed (unread counts
 * move on a mention, `reactionsToMe` on a reaction, `taskMentions` on a task comment) and polled
 * as a fallback. The newest page is polled; older pages load on request. What I have seen is the
 * time I last opened the view, in my `me:` doc (`seen`, OWN12), so every browser of mine agrees.
 */
import { markSeen, meReactionsToMeOf, meSeenOf, meTaskMentionsOf, meUnreadOf } from '@circlechat/model';
import { api, type ActivityItem } from '$lib/api';
import { PolledList } from './polled-list.svelte';
import type { WorkspaceState } from './workspace.svelte';

const POLL_MS = 30_000;
/** Several me-doc changes in a burst cost one request. */
const SETTLE_MS = 300;

export class Activity extends PolledList<ActivityItem> {
	#ws: WorkspaceState;
	#seen = $state(0);
	#first: { next: number | null };
	#older = $state.raw<ActivityItem[]>([]);
	#olderNext = $state<number | null>(null);
	#loadingOlder = $state(false);

	constructor(ws: WorkspaceState) {
		const first = $state({ next: null as number | null });
		super(async () => {
			const page = await api.activity();
			first.next = page.nextBefore;
			return page.items;
		}, POLL_MS);
		this.#first = first;
		this.#ws = ws;
		this.#readSeen();
		// Before the time lived in the me: doc it was kept per browser: carry it over once.
		const legacy = `circlechat:activity-seen:${ws.me.id}`;
		const old = Number(localStorage.getItem(legacy) ?? 0) || 0;
		if (old > 0) {
			markSeen(ws.meDoc.doc, 'activity', Math.min(old, Date.now()));
			localStorage.removeItem(legacy);
			this.#readSeen();
		}
	}

	#readSeen() {
		this.#seen = meSeenOf(this.#ws.meDoc.doc).get('activity') ?? 0;
	}

	/** Pages older than the newest, loaded by `loadOlder`. */
	get older(): ActivityItem[] {
		return this.#older;
	}
	/** Whether an older page may exist. */
	get hasOlder(): boolean {
		return this.loaded && (this.#older.length ? this.#olderNext : this.#first.next) !== null;
	}
	get loadingOlder(): boolean {
		return this.#loadingOlder;
	}

	async loadOlder() {
		const before = this.#older.length ? this.#olderNext : this.#first.next;
		if (before === null || this.#loadingOlder) return;
		this.#loadingOlder = true;
		try {
			const page = await api.activity(before);
			this.#older = [...this.#older, ...page.items];
			this.#olderNext = page.nextBefore;
		} finally {
			this.#loadingOlder = false;
		}
	}

	/** When I last opened the view: newer items are unread. */
	get seen(): number {
		return this.#seen;
	}

	/**
	 * The list is loaded and so is the server's copy of my me: doc, which holds `seen`: a page
	 * opened fresh (or a browser that has not synced since I looked elsewhere) reads 0 before it.
	 */
	get ready(): boolean {
		return this.loaded && this.#ws.meDoc.synced;
	}

	get unreadCount(): number {
		return this.ready ? this.items.filter((i) => i.at > this.#seen).length : 0;
	}

	/** The view is open: everything listed so far is seen. */
	markSeen() {
		const at = Math.max(this.#seen, ...this.items.map((i) => i.at));
		if (at === this.#seen) return;
		this.#seen = at;
		markSeen(this.#ws.meDoc.doc, 'activity', at);
	}

	override watch(): () => void {
		const stop = super.watch();
		// Reads `doc` here so an effect calling watch() follows the me: doc across resets.
		const doc = this.#ws.meDoc.doc;
		const maps = [meUnreadOf(doc), meReactionsToMeOf(doc), meTaskMentionsOf(doc)];
		// Another browser of mine looked at the view: its marks clear here too.
		const seen = meSeenOf(doc);
		const seenChanged = () => this.#readSeen();
		seen.observe(seenChanged);
		this.#readSeen();
		let timer: ReturnType<typeof setTimeout> | undefined;
		const changed = () => {
			clearTimeout(timer);
			timer = setTimeout(() => void this.refresh(), SETTLE_MS);
		};
		for (const m of maps) m.observe(changed);
		return () => {
			clearTimeout(timer);
			for (const m of maps) m.unobserve(changed);
			seen.unobserve(seenChanged);
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
