/**
 * The threads I follow, from my `me:` doc: `threads` (written by the server on every reply) and
 * my own `threadReads` markers. Backs the Threads view, its sidebar count, and the follow
 * buttons of the thread pane and the message menu. One instance per workspace shell.
 */
import { markThreadRead, meThreadReadsOf, meThreadsOf, threadUnread, type FollowedThread } from '@circlechat/model';
import { api, errorMessage } from '$lib/api';
import { toasts } from './toasts.svelte';
import type { WorkspaceState } from './workspace.svelte';

export interface ThreadEntry extends FollowedThread {
	rootId: string;
	unread: boolean;
}

export class FollowedThreads {
	#ws: WorkspaceState;
	#threads = $state.raw<Map<string, FollowedThread>>(new Map());
	#reads = $state.raw<Map<string, number>>(new Map());

	constructor(ws: WorkspaceState) {
		this.#ws = ws;
		// Lives as long as the shell (one instance per workspace state).
		$effect.root(() => {
			$effect(() => {
				const map = meThreadsOf(ws.meDoc.doc);
				const read = () => (this.#threads = new Map(map.entries()));
				read();
				map.observe(read);
				return () => map.unobserve(read);
			});
			$effect(() => {
				const map = meThreadReadsOf(ws.meDoc.doc);
				const read = () => (this.#reads = new Map(map.entries()));
				read();
				map.observe(read);
				return () => map.unobserve(read);
			});
		});
	}

	/** Followed threads of conversations I am still in, the newest reply first. */
	get list(): ThreadEntry[] {
		const me = this.#ws.me.id;
		return [...this.#threads]
			.filter(([, t]) => this.#ws.conversation(t.conversationId))
			.map(([rootId, t]) => ({ rootId, ...t, unread: threadUnread(t, this.#reads.get(rootId), me) }))
			.sort((a, b) => b.lastReplyAt - a.lastReplyAt);
	}

	get unreadCount(): number {
		return this.list.filter((t) => t.unread).length;
	}

	following(rootId: string): boolean {
		return this.#threads.has(rootId);
	}

	async setFollowing(rootId: string, on: boolean): Promise<void> {
		try {
			await api.followThread(rootId, on);
		} catch (err) {
			toasts.error(errorMessage(err));
		}
	}

	/**
	 * I have seen the thread's replies up to `at`. Markers of threads I no longer follow go in the
	 * same change, so the map stays as small as `threads` (the server keeps at most 200).
	 */
	markRead(rootId: string, at: number) {
		const doc = this.#ws.meDoc.doc;
		const reads = meThreadReadsOf(doc);
		const threads = meThreadsOf(doc);
		doc.transact(() => {
			markThreadRead(doc, rootId, at);
			for (const key of [...reads.keys()]) if (!threads.has(key)) reads.delete(key);
		});
	}
}

const byWorkspace = new WeakMap<WorkspaceState, FollowedThreads>();

export function threadsOf(ws: WorkspaceState): FollowedThreads {
	let threads = byWorkspace.get(ws);
	if (!threads) byWorkspace.set(ws, (threads = new FollowedThreads(ws)));
	return threads;
}
