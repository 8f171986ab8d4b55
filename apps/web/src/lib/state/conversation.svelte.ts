/**
 * One open conversation: its segment docs (`conv:<id>:<segment>`), the messages in them, and the
 * writes a member makes. Writes go straight to the Y.Doc through @circlechat/model (local-first:
 * they show at once, reach the server when connected, and are refused by the guard if not ours).
 *
 * A conversation is a chain of segments; the highest is live and takes new posts. The live one
 * and the one before it are opened, so a segment rollover never empties the view; older ones
 * load on request (paginated history).
 */
import {
	appendMessage,
	deleteMessage,
	docName,
	editMessage,
	extractMentionHandles,
	BROADCAST_MENTIONS,
	findMessage,
	listMessages,
	uniqueMessages,
	messagesOf,
	toggleReaction,
	type Attachment,
	type Message
} from '@circlechat/model';
import { docPool, type SyncedDoc, type SyncedDocOptions } from '$lib/sync';
import { describeRejection, toasts } from './toasts.svelte';
import type { WorkspaceState } from './workspace.svelte';

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

	constructor(ws: WorkspaceState, id: string, liveSegment: number) {
		this.#ws = ws;
		this.id = id;
		this.liveSegment = liveSegment;
		this.#segments = [this.#open(liveSegment)];
		if (liveSegment > 0) this.loadEarlier();

		$effect(() => {
			const stops = this.#segments.map(({ segment, synced }) => {
				const doc = synced.doc;
				const arr = messagesOf(doc);
				const read = () => {
					// Appends made at once by two people land in Yjs order (by client id), not send
					// order; show them by time (Array.sort is stable, so ties keep doc order).
					const list = listMessages(doc).filter((m) => !m.parentId);
					this.#latest.set(segment, list.sort((a, b) => a.createdAt - b.createdAt));
					this.#bySegment = new Map(this.#latest);
				};
				read();
				arr.observeDeep(read);
				return () => arr.unobserveDeep(read);
			});
			return () => stops.forEach((stop) => stop());
		});
		$effect(() => () => this.#segments.forEach((s) => docPool.close(s.synced, s.opts)));
	}

	#open(segment: number): Segment {
		const opts: SyncedDocOptions = {
			onReject: (reason) => toasts.error(describeRejection(reason)),
			onFatal: (_code, message) => toasts.error(message)
		};
		return { segment, synced: docPool.open(docName.conv(this.id, segment), opts), opts };
	}

	get live(): SyncedDoc {
		return this.#segments.at(-1)!.synced;
	}
	get messages(): Message[] {
		return uniqueMessages(this.#segments.flatMap((s) => this.#bySegment.get(s.segment) ?? []));
	}
	get loaded(): boolean {
		return this.live.loaded;
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
