/**
 * One open thread: the `thread:<rootMessageId>` doc, whose messages are the replies (each with
 * `parentId` = root). The root itself lives in its conversation's segment and carries the
 * server-written `threadCount` / `lastReplyAt`.
 */
import { appendMessage, deleteMessage, docName, editMessage, listMessages, messagesOf, uniqueMessages, toggleReaction, type Attachment, type Message } from '@circlechat/model';
import { docPool, type SyncedDoc, type SyncedDocOptions } from '$lib/sync';
import { describeRejection, toasts } from './toasts.svelte';
import type { WorkspaceState } from './workspace.svelte';
import type { ConversationState } from './conversation.svelte';

export class ThreadState {
	readonly rootId: string;
	readonly synced: SyncedDoc;
	#ws: WorkspaceState;
	#conv: ConversationState;
	#replies = $state.raw<Message[]>([]);

	constructor(ws: WorkspaceState, conv: ConversationState, rootId: string) {
		this.#ws = ws;
		this.#conv = conv;
		this.rootId = rootId;
		const opts: SyncedDocOptions = {
			onReject: (reason) => toasts.error(describeRejection(reason)),
			onFatal: (_code, message) => toasts.error(message),
			conversationId: conv.id
		};
		this.synced = docPool.open(docName.thread(rootId), opts);
		$effect(() => {
			const doc = this.synced.doc;
			const arr = messagesOf(doc);
			// A deleted reply has nothing hanging off it: it leaves no placeholder.
			const read = () => (this.#replies = uniqueMessages(listMessages(doc)).filter((m) => !m.deleted).sort((a, b) => a.createdAt - b.createdAt));
			read();
			arr.observeDeep(read);
			return () => arr.unobserveDeep(read);
		});
		$effect(() => () => docPool.close(this.synced, opts));
	}

	get replies(): Message[] {
		return this.#replies;
	}
	get loaded(): boolean {
		return this.synced.loaded;
	}

	post(body: string, attachments: Attachment[] = []): string | null {
		const text = body.trim();
		if (!text && attachments.length === 0) return null;
		return appendMessage(this.synced.doc, {
			author: this.#ws.me.id,
			body: text,
			mentions: this.#conv.mentionsIn(text),
			attachments,
			parentId: this.rootId
		});
	}

	edit(id: string, body: string): boolean {
		const text = body.trim();
		return !!text && editMessage(this.synced.doc, id, text, this.#conv.mentionsIn(text));
	}

	remove(id: string): boolean {
		return deleteMessage(this.synced.doc, id);
	}

	react(id: string, emoji: string) {
		toggleReaction(this.synced.doc, id, this.#ws.me.id, emoji);
	}
}
