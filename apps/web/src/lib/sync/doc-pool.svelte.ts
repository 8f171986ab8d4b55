/**
 * The docs this tab has open, one SyncedDoc per name however many views show it, and kept open
 * while it still has unsent changes after the last view closed: a message written offline in
 * #general lands when the network returns even if #launch is on screen by then, and two views of
 * one doc never run two outboxes over the same IndexedDB store.
 *
 * `resumeUnsynced()` reopens every doc a past session left with unsent changes (local-changes.ts),
 * so closing the tab and coming back later still sends them all.
 *
 * The last few docs no view shows any more stay open too (KEEP_IDLE, the least recently shown
 * closing first): going back to a conversation then shows it at once, with nothing to read from
 * IndexedDB and no sync exchange, and it stayed live meanwhile.
 */
import { SvelteMap } from 'svelte/reactivity';
import { SyncedDoc, type SyncedDocOptions } from './synced-doc.svelte';
import { beforeClearingDocs } from './cache';
import { unsyncedDocs } from './local-changes';

interface Entry {
	doc: SyncedDoc;
	/** The options each open view passed: their hooks are all called. */
	views: SyncedDocOptions[];
}

const none: ReadonlySet<string> = new Set();

/** Docs kept open after their last view closed (a conversation is one to three segment docs). */
const KEEP_IDLE = 6;

class DocPool {
	#entries = new SvelteMap<string, Entry>();
	/** Names of docs no view shows, kept open; the least recently shown first. */
	#idle = $state.raw<string[]>([]);

	/**
	 * Opens (or shares) `name` for a view. Pair with `close(doc, opts)` passing the same `opts`
	 * object. The first view's `readOnly` and `conversationId` hold for every later one.
	 */
	open(name: string, opts: SyncedDocOptions = {}): SyncedDoc {
		const entry = this.#entry(name, opts);
		entry.views.push(opts);
		return entry.doc;
	}

	/** A view is done with `doc`; it closes once no view shows it and nothing is left to send. */
	close(doc: SyncedDoc, opts?: SyncedDocOptions) {
		const entry = this.#entries.get(doc.name);
		if (!entry || entry.doc !== doc) return doc.destroy();
		const i = opts ? entry.views.indexOf(opts) : entry.views.length - 1;
		if (i >= 0) entry.views.splice(i, 1);
		this.#sweep(entry);
	}

	/** Ids of items with unsent changes in doc `name` (empty when it is not open). */
	pending(name: string): ReadonlySet<string> {
		return this.#entries.get(name)?.doc.pending ?? none;
	}

	/** Every open doc shown or kept for sending (not those kept only to come back to). */
	get docs(): SyncedDoc[] {
		return [...this.#entries.values()].filter((e) => !this.#idle.includes(e.doc.name)).map((e) => e.doc);
	}

	/** Local changes not yet on the server, over every open doc. */
	get unsynced(): number {
		let n = 0;
		for (const e of this.#entries.values()) n += e.doc.unsynced;
		return n;
	}

	/** Conversations with unsent changes (any of their docs), for the sidebar. */
	get unsentConversations(): Set<string> {
		const ids = new Set<string>();
		for (const e of this.#entries.values()) if (e.doc.unsynced > 0 && e.doc.conversationId) ids.add(e.doc.conversationId);
		return ids;
	}

	/** Opens every doc a past session left unsent changes in; each closes once they land. */
	resumeUnsynced() {
		for (const [name, info] of unsyncedDocs()) {
			if (this.#entries.has(name)) continue;
			const entry = this.#entry(name, { conversationId: info.conversationId });
			void entry.doc.ready.then(() => this.#sweep(entry));
		}
	}

	closeAll() {
		for (const e of [...this.#entries.values()]) e.doc.destroy();
		this.#entries.clear();
		this.#idle = [];
	}

	#entry(name: string, opts: SyncedDocOptions): Entry {
		let entry = this.#entries.get(name);
		if (this.#idle.includes(name)) this.#idle = this.#idle.filter((n) => n !== name);
		if (entry) return entry;
		const views: SyncedDocOptions[] = [];
		const doc = new SyncedDoc(name, {
			...opts,
			onReject: (reason, detail, n) => views.forEach((h) => h.onReject?.(reason, detail, n)),
			onFatal: (code, reason, n) => views.forEach((h) => h.onFatal?.(code, reason, n)),
			onUnsynced: () => queueMicrotask(() => entry && this.#sweep(entry))
		});
		entry = { doc, views };
		this.#entries.set(name, entry);
		return entry;
	}

	#sweep(entry: Entry) {
		if (entry.views.length > 0 || this.#entries.get(entry.doc.name) !== entry) return;
		// Still sending, or (re)loading its outbox: stay open. A doc whose access is gone for good
		// has had its changes set aside as refused and closes.
		if (entry.doc.unsynced > 0 && entry.doc.status !== 'error') return;
		const name = entry.doc.name;
		this.#idle = this.#idle.filter((n) => n !== name);
		// Kept only while in sync: one still connecting may never get in (access gone meanwhile),
		// and is opened afresh next time like one that failed for good.
		if (entry.doc.status !== 'synced') return this.#drop(entry);
		const idle = [...this.#idle, name];
		this.#idle = idle.slice(-KEEP_IDLE);
		for (const evicted of idle.slice(0, -KEEP_IDLE)) {
			const oldest = this.#entries.get(evicted);
			if (oldest && oldest.views.length === 0 && oldest.doc.unsynced === 0) this.#drop(oldest);
		}
	}

	#drop(entry: Entry) {
		this.#entries.delete(entry.doc.name);
		entry.doc.destroy();
	}
}

export const docPool = new DocPool();
beforeClearingDocs(() => docPool.closeAll());
