/**
 * One open conversation: its live segment doc (`conv:<id>:<segment>`), the messages in it, and the
 * writes a member makes. Writes go straight to the Y.Doc through @circlechat/model (local-first:
 * they show at once, reach the server when connected, and are refused by the guard if not ours).
 */
import {
	appendMessage,
	deleteMessage,
	docName,
	editMessage,
	extractMentionHandles,
	listMessages,
	messagesOf,
	type Message
} from '@circlechat/model';
import { SyncedDoc } from '$lib/sync';
import { describeRejection, toasts } from './toasts.svelte';
import type { WorkspaceState } from './workspace.svelte';

export class ConversationState {
	readonly id: string;
	readonly segment: number;
	readonly synced: SyncedDoc;
	#ws: WorkspaceState;
	#messages = $state.raw<Message[]>([]);

	constructor(ws: WorkspaceState, id: string, segment: number) {
		this.#ws = ws;
		this.id = id;
		this.segment = segment;
		this.synced = new SyncedDoc(docName.conv(id, segment), {
			onReject: (reason, detail) => toasts.error(describeRejection(reason, detail)),
			onFatal: (_code, message) => toasts.error(message)
		});
		$effect(() => {
			const doc = this.synced.doc;
			const arr = messagesOf(doc);
			const read = () => (this.#messages = listMessages(doc).filter((m) => !m.parentId));
			read();
			arr.observeDeep(read);
			return () => arr.unobserveDeep(read);
		});
		$effect(() => () => this.synced.destroy());
	}

	get messages(): Message[] {
		return this.#messages;
	}
	get loaded(): boolean {
		return this.synced.loaded;
	}

	/** Ids of members whose `@handle` appears in the body. */
	mentionsIn(body: string): string[] {
		const ids = new Set<string>();
		for (const handle of extractMentionHandles(body)) {
			const m = this.#ws.memberByHandle(handle);
			if (m) ids.add(m.id);
		}
		return [...ids];
	}

	post(body: string): string | null {
		const text = body.trim();
		if (!text) return null;
		return appendMessage(this.synced.doc, {
			author: this.#ws.me.id,
			body: text,
			mentions: this.mentionsIn(text)
		});
	}

	edit(id: string, body: string): boolean {
		const text = body.trim();
		if (!text) return false;
		return editMessage(this.synced.doc, id, text, this.mentionsIn(text));
	}

	remove(id: string): boolean {
		return deleteMessage(this.synced.doc, id);
	}

	/** Moves my read marker to the newest message shown. */
	markRead() {
		const last = this.#messages.at(-1);
		if (last) this.#ws.markRead(this.id, last.createdAt);
	}
}
