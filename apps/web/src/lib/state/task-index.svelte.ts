/**
 * The task index as the REST API lists it (GET /api/tasks: every board I can see), for what would
 * otherwise mean opening every board doc: the All tasks view's channel cards and the "changed
 * since my visit" badges of the sidebar and the Board tab; and the task comments that mention me
 * (`me:` taskMentions, written by the server), unread until I visit their board. One instance per workspace shell;
 * whoever shows it `watch()`es (see PolledList).
 */
import { untrack } from 'svelte';
import { meBoardVisitsOf, meTaskMentionsOf, type TaskMention } from '@circlechat/model';
import { api, type TaskSummary } from '$lib/api';
import { notify } from './notifier.svelte';
import { PolledList } from './polled-list.svelte';
import type { WorkspaceState } from './workspace.svelte';

/** Badges need not be to the second; one small GET every 20 s while shown. */
const POLL_MS = 20_000;

const localVisitKey = (id: string) => `circlechat:board-visit:${id}`;

export class TaskIndex extends PolledList<TaskSummary> {
	#ws: WorkspaceState;
	#visits = $state.raw<Map<string, number>>(new Map());
	#mentions = $state.raw<TaskMention[]>([]);
	/** Mentions already read once (null: not yet): only those after it are news to notify. */
	#knownMentions: Set<string> | null = null;
	/** updatedAt of my own writes this session, by task: a change I made is not news to me. */
	#mine = new Map<string, number>();

	constructor(ws: WorkspaceState) {
		super(async () => (await api.tasks()).tasks, POLL_MS);
		this.#ws = ws;
	}

	/** When I last visited a board: `me:` boardVisits for conversations, this browser for the workspace's. */
	visit(board: string): number {
		const v = this.#visits.get(board);
		if (v !== undefined) return v;
		if (board === this.#ws.session.workspace.id) return Number(localStorage.getItem(localVisitKey(board)) ?? 0) || 0;
		return 0;
	}

	/** A board view says I have seen it up to `at`. */
	noteVisit(board: string, at: number) {
		if (board === this.#ws.session.workspace.id) localStorage.setItem(localVisitKey(board), String(at));
		untrack(() => {
			if ((this.#visits.get(board) ?? 0) < at) this.#visits = new Map([...this.#visits, [board, at]]);
		});
	}

	noteMine(taskId: string, updatedAt: number) {
		this.#mine.set(taskId, updatedAt);
	}

	/** The task's last change is one I made here (the index does not say who changed a task). */
	isMine(taskId: string, updatedAt: number): boolean {
		return this.#mine.get(taskId) === updatedAt;
	}

	/** A listed task that changed since my visit of its board, by someone else. */
	isNews(t: TaskSummary): boolean {
		if (t.updatedAt <= this.visit(this.boardOf(t)) || this.isMine(t.id, t.updatedAt)) return false;
		return !(t.createdBy === this.#ws.me.id && t.updatedAt === t.createdAt);
	}

	/** Listed cards of these boards have been seen (the All tasks view was looked at). */
	markSeen(boards: string[]) {
		const now = Date.now();
		const doc = this.#ws.meDoc.doc;
		const visits = meBoardVisitsOf(doc);
		const ws = this.#ws.session.workspace.id;
		for (const b of boards) this.noteVisit(b, now);
		const convs = boards.filter((b) => b !== ws && (visits.get(b) ?? 0) < now);
		if (convs.length) doc.transact(() => convs.forEach((b) => visits.set(b, now)));
	}

	/** The board doc's key a listed task lives in. */
	boardOf(t: TaskSummary): string {
		return t.conversationId ?? this.#ws.session.workspace.id;
	}

	/** Cards of a board changed since my visit; a card I created and nobody touched is not news. */
	changed(board: string): number {
		return this.items.filter((t) => this.boardOf(t) === board && !t.parentId && this.isNews(t)).length;
	}

	/** Changed cards over every board I can see. */
	get changedTotal(): number {
		return [...new Set(this.items.map((t) => this.boardOf(t)))].reduce((n, b) => n + this.changed(b), 0);
	}

	/** Task comments mentioning me, posted after my last visit of their board, newest first. */
	get unreadMentions(): TaskMention[] {
		return this.#mentions.filter((m) => m.at > this.visit(m.conversationId ?? this.#ws.session.workspace.id)).sort((a, b) => b.at - a.at);
	}

	/** Keeps the index and my visits fresh while the caller is mounted; the `$effect` teardown. */
	override watch(): () => void {
		const stopPolling = super.watch();
		// Reads `doc` here so an effect calling watch() follows the me: doc across resets.
		const visits = meBoardVisitsOf(this.#ws.meDoc.doc);
		const read = () => {
			const next = new Map(this.#visits);
			for (const [k, v] of visits.entries()) if ((next.get(k) ?? 0) < v) next.set(k, v);
			this.#visits = next;
		};
		const mentions = meTaskMentionsOf(this.#ws.meDoc.doc);
		const readMentions = () => {
			this.#mentions = [...mentions.values()];
			// The first read is a baseline; a mention that arrives later, with the tab hidden, notifies.
			const known = this.#knownMentions;
			if (known && document.hidden) for (const m of this.#mentions) if (!known.has(m.commentId)) this.#notify(m);
			this.#knownMentions = new Set(this.#mentions.map((m) => m.commentId));
		};
		untrack(read);
		untrack(readMentions);
		visits.observe(read);
		mentions.observe(readMentions);
		return () => {
			visits.unobserve(read);
			mentions.unobserve(readMentions);
			stopPolling();
		};
	}

	#notify(m: TaskMention) {
		const who = this.#ws.member(m.by)?.name ?? 'Someone';
		const href = m.conversationId ? `/c/${m.conversationId}/board?task=${encodeURIComponent(m.taskId)}` : '/tasks';
		notify(`${who} mentioned you on a task`, this.items.find((t) => t.id === m.taskId)?.title ?? 'Task comment', href, m.commentId);
	}
}

const byWorkspace = new WeakMap<WorkspaceState, TaskIndex>();

/** The workspace's task index (created on first use, lives as long as the shell). */
export function taskIndexOf(ws: WorkspaceState): TaskIndex {
	let index = byWorkspace.get(ws);
	if (!index) byWorkspace.set(ws, (index = new TaskIndex(ws)));
	return index;
}
