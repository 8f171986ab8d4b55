/**
 * One open conversation: its segment docs (`conv:<id>:<segment>`), the messages in them, and the
 * writes a member makes. Writes go straight to the Y.Doc through @circlechat/model (local-first:
 * they show at once, reach the server when connected, and are refused by the guard if not ours).
 *
 * A conversation is a chain of segments; the highest is live and takes new posts. The live one
 * and the one before it are opened, so a segment rollover never empties the view; older ones
 * load on request (paginated history).
 *
 * Opened with nothing of it cached in this browser, a segment is up to 1,000 messages to sync
 * before anything shows: the newest page over REST (membership-checked by the server) shows
 * meanwhile, under the docs' messages of the same ids, until the segments have synced. With its
 * segments cached, the snapshot of its newest messages (snapshots.ts) stands in the same way until
 * they are read back from IndexedDB.
 */
import {
	appendMessage,
	deleteMessage,
	docName,
	editMessage,
	extractMentionHandles,
	BROADCAST_MENTIONS,
	findMessage,
	readMessage,
	uniqueMessages,
	messagesOf,
	toggleReaction,
	type Attachment,
	type Message
} from '@circlechat/model';
import * as Y from 'yjs';
import { docPool, dropSnapshot, hasCachedConversation, type SyncedDoc, type SyncedDocOptions } from '$lib/sync';

/** Reading and writing snapshots is not part of the shell: loaded once, with the first conversation. */
let snapshots: Promise<typeof import('$lib/sync/snapshots')> | null = null;
const loadSnapshots = () => (snapshots ??= import('$lib/sync/snapshots'));
import { describeRejection, toasts } from './toasts.svelte';
import type { WorkspaceState } from './workspace.svelte';
import { api, type ApiMessage, type Conversation } from '$lib/api';

/** Messages in a REST first page or a snapshot: the message list's first window. */
const FIRST_PAGE = 50;

/** The message map (an element of `arr`) that `type` is or lies in; null for `arr` itself. */
function messageMapOf(type: Y.AbstractType<unknown>, arr: Y.Array<Y.Map<unknown>>): Y.Map<unknown> | null {
	let t: Y.AbstractType<unknown> | null = type;
	while (t && t._item) {
		const parent = t._item.parent as Y.AbstractType<unknown> | null;
		if (parent === arr) return t instanceof Y.Map ? t : null;
		t = parent;
	}
	return null;
}

interface Segment {
	segment: number;
	synced: SyncedDoc;
	opts: SyncedDocOptions;
}

export class ConversationState {
	readonly id: string;
	readonly liveSegment: number;
	#ws: WorkspaceState;
	/** Open segments, oldest first; the last is live. */
	#segments = $state.raw<Segment[]>([]);
	#bySegment = $state.raw<Map<number, Message[]>>(new Map());
	/** Plain copy of #bySegment: the observers update it without reading reactive state. */
	#latest = new Map<number, Message[]>();
	/** The REST page or snapshot shown until the segments have loaded; null once they have (or without one). */
	#firstPage = $state.raw<Message[] | null>(null);
	#handedOver = false;
	#connectAfter: Promise<void> | undefined;

	/**
	 * `firstPage`: the newest messages, already asked for (by the route's load); without it they
	 * are asked for here when nothing of the conversation is cached in this browser.
	 */
	constructor(ws: WorkspaceState, id: string, liveSegment: number, firstPage: Promise<Message[] | null> | null = null) {
		this.#ws = ws;
		this.id = id;
		this.liveSegment = liveSegment;
		const page = firstPage ?? (hasCachedConversation(id) ? null : fetchNewest(id));
		// The page stands in meanwhile: the segments' sync (up to 1,000 messages each, on the
		// server and here) comes after the me: doc's, which the sidebar waits for.
		if (page) this.#connectAfter = ws.meDoc.firstSync;
		this.#segments = [this.#open(liveSegment)];
		if (liveSegment > 0) this.loadEarlier();
		// Docs kept open by the pool show at once; docs still in IndexedDB only, after a read and decode.
		// (In a tab that showed a conversation before, the module is here: a microtask, ahead of IndexedDB.)
		if (!page) {
			void loadSnapshots().then((m) => {
				if (!this.#handedOver && !this.#segments.every((s) => s.synced.loaded)) this.#firstPage = m.readSnapshot(id, liveSegment);
			}, () => {});
		}

		void page?.then((messages) => {
			if (!this.#handedOver && messages?.length) this.#firstPage = messages;
		});
		$effect(() => {
			// A segment that failed for good (not a member…) says so itself; the page is not kept for it.
			// A segment never held here is loaded only once synced, so a REST page waits for the sync.
			if (!this.#handedOver && this.#segments.every((s) => s.synced.loaded || s.synced.status === 'error')) {
				this.#handedOver = true;
				this.#firstPage = null;
			}
		});

		$effect(() => {
			const stops = this.#segments.map(({ segment, synced }) => {
				const arr = messagesOf(synced.doc);
				// Each message map's last reading: a change reads again only the messages it touched
				// (a segment holds up to 1,000, and every sync, edit and reaction is a change).
				const cache = new Map<Y.Map<unknown>, Message>();
				const read = (events: Y.YEvent<Y.AbstractType<unknown>>[] = []) => {
					for (const e of events) {
						const map = messageMapOf(e.target, arr);
						if (map) cache.delete(map);
					}
					const maps = arr.toArray();
					if (cache.size > maps.length) {
						const kept = new Set(maps);
						for (const map of cache.keys()) if (!kept.has(map)) cache.delete(map);
					}
					const list: Message[] = [];
					for (const map of maps) {
						let m = cache.get(map);
						if (!m) cache.set(map, (m = readMessage(map)));
						if (!m.parentId) list.push(m);
					}
					// Appends made at once by two people land in Yjs order (by client id), not send
					// order; show them by time (Array.sort is stable, so ties keep doc order).
					this.#latest.set(segment, list.sort((a, b) => a.createdAt - b.createdAt));
					this.#bySegment = new Map(this.#latest);
				};
				read();
				arr.observeDeep(read);
				return () => arr.unobserveDeep(read);
			});
			return () => stops.forEach((stop) => stop());
		});
		this.#keepSnapshot();
		$effect(() => () => this.#segments.forEach((s) => docPool.close(s.synced, s.opts)));
	}

	/**
	 * Writes the newest messages' snapshot a second after they change, and on leaving the pane:
	 * only from the segments a conversation opens with (older ones opened for history or a jump
	 * would not be there when the docs take over).
	 */
	#keepSnapshot() {
		let timer: ReturnType<typeof setTimeout> | undefined;
		const save = () => {
			timer = undefined;
			// Access gone: onFatal dropped it; nothing is written again.
			if (this.#segments.some((s) => s.synced.status === 'error')) return;
			const opened = this.#segments.filter((s) => s.segment >= this.liveSegment - 1);
			const newest = uniqueMessages(opened.flatMap((s) => this.#latest.get(s.segment) ?? []));
			void loadSnapshots().then((m) => m.saveSnapshot(this.id, this.liveSegment, newest.slice(-FIRST_PAGE)), () => {});
		};
		$effect(() => {
			if (!this.loaded) return;
			void this.#messages;
			clearTimeout(timer);
			timer = setTimeout(save, 1000);
		});
		$effect(() => () => {
			if (timer === undefined) return;
			clearTimeout(timer);
			save();
		});
	}

	#open(segment: number): Segment {
		const opts: SyncedDocOptions = {
			onReject: (reason) => toasts.error(describeRejection(reason)),
			onFatal: (code, message) => {
				if (code === 4403 || code === 4410) dropSnapshot(this.id);
				toasts.error(message);
			},
			connectAfter: this.#connectAfter
		};
		return { segment, synced: docPool.open(docName.conv(this.id, segment), opts), opts };
	}

	get live(): SyncedDoc {
		return this.#segments.at(-1)!.synced;
	}
	#messages = $derived.by(() => {
		const fromDocs = uniqueMessages(this.#segments.flatMap((s) => this.#bySegment.get(s.segment) ?? []));
		const page = this.#firstPage;
		// The docs' copy of a message wins: the page is only what the server had when it was read.
		return page ? uniqueMessages([...fromDocs, ...page]).sort((a, b) => a.createdAt - b.createdAt) : fromDocs;
	});
	get messages(): Message[] {
		return this.#messages;
	}
	/** Something to show; not while a REST page stands in (the conversation's start is not known). */
	get loaded(): boolean {
		return this.live.loaded && this.#firstPage === null;
	}
	/** Ids of messages with changes not yet on the server, over the open segments. */
	get pending(): ReadonlySet<string> {
		const all = this.#segments.map((s) => s.synced.pending).filter((p) => p.size > 0);
		return all.length <= 1 ? (all[0] ?? new Set()) : new Set(all.flatMap((p) => [...p]));
	}
	/** Segments older than the ones open exist. */
	get hasEarlier(): boolean {
		return (this.#segments[0]?.segment ?? 0) > 0;
	}

	loadEarlier() {
		const oldest = this.#segments[0]?.segment ?? 0;
		if (oldest > 0) this.#segments = [this.#open(oldest - 1), ...this.#segments];
	}

	/**
	 * Opens every segment from the oldest open one down to `segment` (a jump to an old message).
	 * The chain stays contiguous so the list scrolls on without gaps.
	 */
	loadThrough(segment: number) {
		const oldest = this.#segments[0]?.segment ?? 0;
		if (segment >= oldest) return;
		const more: Segment[] = [];
		for (let s = Math.max(0, segment); s < oldest; s++) more.push(this.#open(s));
		this.#segments = [...more, ...this.#segments];
	}

	/** Ids of members whose `@handle` appears in the body. */
	mentionsIn(body: string): string[] {
		const ids = new Set<string>();
		for (const handle of extractMentionHandles(body)) {
			// @everyone / @channel are stored as the keyword: who it reaches is decided when read.
			if (BROADCAST_MENTIONS.has(handle)) ids.add(handle);
			const m = this.#ws.memberByHandle(handle);
			if (m) ids.add(m.id);
		}
		return [...ids];
	}

	/** A new message: text, files uploaded for it (`POST /api/uploads`), or both. */
	post(body: string, attachments: Attachment[] = []): string | null {
		const text = body.trim();
		if (!text && attachments.length === 0) return null;
		return appendMessage(this.live.doc, {
			author: this.#ws.me.id,
			body: text,
			mentions: this.mentionsIn(text),
			attachments
		});
	}

	/** The doc holding message `id` (newest segment first: recent messages are the ones edited). */
	#docOf(id: string) {
		for (let i = this.#segments.length - 1; i >= 0; i--) {
			const doc = this.#segments[i]!.synced.doc;
			if (findMessage(doc, id)) return doc;
		}
		return null;
	}

	edit(id: string, body: string): boolean {
		const text = body.trim();
		const doc = this.#docOf(id);
		if (!text || !doc) return false;
		return editMessage(doc, id, text, this.mentionsIn(text));
	}

	remove(id: string): boolean {
		const doc = this.#docOf(id);
		return doc ? deleteMessage(doc, id) : false;
	}

	react(id: string, emoji: string) {
		const doc = this.#docOf(id);
		if (doc) toggleReaction(doc, id, this.#ws.me.id, emoji);
	}

	/** Moves my read marker to the newest message shown. */
	markRead() {
		const last = this.messages.at(-1);
		if (last) this.#ws.markRead(this.id, last.createdAt);
	}
}

/** A message as the REST API shows it, in the shape the docs give (readMessage). */
function messageFromApi(m: ApiMessage): Message {
	return {
		id: m.id,
		author: m.memberId,
		createdAt: m.createdAt,
		body: m.bodyMd,
		editedAt: m.editedAt,
		deleted: m.deleted,
		mentions: m.mentions,
		attachments: m.attachments,
		parentId: m.parentId,
		reactions: m.reactions,
		threadCount: m.threadCount,
		lastReplyAt: m.lastReplyAt,
		card: m.card
	};
}

/** A conversation and its newest messages over REST, for its first open in this browser. */
export interface FirstPage {
	conversation: Conversation;
	messages: Message[];
}

/** Both read at once, each membership-checked by the server; null if either fails. */
export function fetchFirstPage(conversationId: string): Promise<FirstPage | null> {
	return Promise.all([api.conversation(conversationId), newestPage(conversationId)]).then(
		([c, messages]) => ({ conversation: c.conversation, messages }),
		() => null // offline, or not a member: the docs say so
	);
}

const newestPage = (conversationId: string) => api.latestMessages(conversationId, FIRST_PAGE).then((r) => r.messages.map(messageFromApi));

/** The newest messages alone, for a conversation known to be mine but not cached here; null if unavailable. */
function fetchNewest(conversationId: string): Promise<Message[] | null> {
	return newestPage(conversationId).catch(() => null);
}
