/**
 * One open board doc (`board:<conversationId>`, or `board:<workspaceId>` for the workspace's
 * tasks): its tasks, label palette and comment counts, the moves and creations a member makes,
 * and which cards changed since my last visit. Writes go straight to the Y.Doc through
 * @circlechat/model, like messages: they show at once and the guard refuses what is not ours.
 */
import { untrack } from 'svelte';
import {
	boardLabelsOf,
	commentsOf,
	createTask,
	docName,
	findTask,
	followTasks,
	listTasks,
	meBoardVisitsOf,
	positionAtEdge,
	positionBetween,
	updateTask,
	type Task,
	type TaskStatus
} from '@circlechat/model';
import { docPool, type SyncedDoc, type SyncedDocOptions } from '$lib/sync';
import { describeRejection, toasts } from './toasts.svelte';
import { taskIndexOf } from './task-index.svelte';
import type { WorkspaceState } from './workspace.svelte';

export const STATUS_LABELS: Record<TaskStatus, string> = {
	backlog: 'Backlog',
	in_progress: 'In progress',
	review: 'Review',
	done: 'Done'
};

/** What a card shows of a task: the doc's Task and the index's TaskSummary both have it. */
export type CardTask = Pick<Task, 'id' | 'title' | 'status' | 'blocked' | 'position' | 'assignees' | 'labels' | 'dueAt' | 'progress' | 'parentId' | 'updatedAt'>;

export interface BoardCard {
	task: CardTask;
	/** The board doc's key (conversation or workspace id). */
	board: string;
	conversationId: string | null;
	subtasks: { done: number; total: number };
	comments: number;
	unread: boolean;
	/** Where the card lives, shown on the All tasks view ("#design"). */
	where?: string;
}

export type Columns = Record<TaskStatus, BoardCard[]>;

export const emptyColumns = (): Columns => ({ backlog: [], in_progress: [], review: [], done: [] });

export interface BoardFilter {
	text: string;
	assignee: string | null;
	label: string | null;
	mine: boolean;
}

export const noFilter = (): BoardFilter => ({ text: '', assignee: null, label: null, mine: false });

export function matchesFilter(t: CardTask, f: BoardFilter, meId: string): boolean {
	if (f.mine && !t.assignees.includes(meId)) return false;
	if (f.assignee && !t.assignees.includes(f.assignee)) return false;
	if (f.label && !t.labels.includes(f.label)) return false;
	const q = f.text.trim().toLowerCase();
	return !q || t.title.toLowerCase().includes(q);
}

/** Cards by column, keeping their order. */
export function groupByStatus(cards: BoardCard[]): Columns {
	const out = emptyColumns();
	for (const c of cards) out[c.task.status].push(c);
	return out;
}

export const columnTotals = (cols: Columns): Record<TaskStatus, number> => ({
	backlog: cols.backlog.length,
	in_progress: cols.in_progress.length,
	review: cols.review.length,
	done: cols.done.length
});

/** Subtasks show on their parent's card ("3/5"), not as cards of their own. */
export function subtaskCounts(tasks: CardTask[]): Map<string, { done: number; total: number }> {
	const out = new Map<string, { done: number; total: number }>();
	for (const t of tasks) {
		if (!t.parentId) continue;
		const c = out.get(t.parentId) ?? { done: 0, total: 0 };
		c.total++;
		if (t.status === 'done') c.done++;
		out.set(t.parentId, c);
	}
	return out;
}

/** The position for a card dropped at `index` of `column` (the column without the card). */
export function positionAt(column: Pick<CardTask, 'position'>[], index: number): string {
	return positionBetween(column[index - 1]?.position ?? null, column[index]?.position ?? null);
}

export class BoardState {
	/** The board doc's key: a conversation id, or the workspace id. */
	readonly id: string;
	readonly conversationId: string | null;
	readonly synced: SyncedDoc;
	#ws: WorkspaceState;
	#tasks = $state.raw<Task[]>([]);
	#labels = $state.raw<Map<string, string>>(new Map());
	#comments = $state.raw<Map<string, number>>(new Map());
	#visit = $state(0);

	constructor(ws: WorkspaceState, id: string, conversationId: string | null, opts: { quietFatal?: boolean } = {}) {
		this.#ws = ws;
		this.id = id;
		this.conversationId = conversationId;
		const docOpts: SyncedDocOptions = {
			onReject: (reason) => toasts.error(describeRejection(reason)),
			onFatal: (_code, message) => !opts.quietFatal && toasts.error(message),
			conversationId
		};
		this.synced = docPool.open(docName.board(id), docOpts);

		$effect(() => {
			const doc = this.synced.doc;
			const labels = boardLabelsOf(doc);
			const comments = commentsOf(doc);
			const readLabels = () => (this.#labels = new Map(labels.entries()));
			const readComments = () => {
				const counts = new Map<string, number>();
				for (const m of comments) {
					if (m.get('deleted') === true) continue;
					const t = String(m.get('taskId'));
					counts.set(t, (counts.get(t) ?? 0) + 1);
				}
				this.#comments = counts;
			};
			const stopTasks = followTasks(doc, (list) => (this.#tasks = list));
			readLabels();
			readComments();
			labels.observe(readLabels);
			comments.observeDeep(readComments);
			return () => {
				stopTasks();
				labels.unobserve(readLabels);
				comments.unobserveDeep(readComments);
			};
		});
		$effect(() => {
			// The workspace board's key is not a conversation id, which `me:` visits are keyed by.
			if (!conversationId) {
				this.#visit = taskIndexOf(ws).visit(id);
				return;
			}
			const visits = meBoardVisitsOf(this.#ws.meDoc.doc);
			const read = () => (this.#visit = visits.get(conversationId) ?? 0);
			read();
			visits.observe(read);
			return () => visits.unobserve(read);
		});
		$effect(() => () => docPool.close(this.synced, docOpts));
	}

	get doc() {
		return this.synced.doc;
	}
	get loaded(): boolean {
		return this.synced.loaded;
	}
	/** Every task not deleted, in board order. */
	get tasks(): Task[] {
		return this.#tasks;
	}
	get labels(): Map<string, string> {
		return this.#labels;
	}

	task(id: string): Task | undefined {
		return this.#tasks.find((t) => t.id === id);
	}

	isUnread(t: CardTask): boolean {
		return t.updatedAt > this.#visit && !taskIndexOf(this.#ws).isMine(t.id, t.updatedAt);
	}

	/** The board's cards (subtasks folded into their parents), grouped and in board order. */
	get cards(): BoardCard[] {
		const ids = new Set(this.#tasks.map((t) => t.id));
		const subtasks = subtaskCounts(this.#tasks);
		return this.#tasks
			.filter((t) => !t.parentId || !ids.has(t.parentId))
			.map((task) => ({
				task,
				board: this.id,
				conversationId: this.conversationId,
				subtasks: subtasks.get(task.id) ?? { done: 0, total: 0 },
				comments: this.#comments.get(task.id) ?? 0,
				unread: this.isUnread(task)
			}));
	}

	get unreadCount(): number {
		return this.cards.filter((c) => c.unread).length;
	}

	#noteMine(id: string) {
		const at = findTask(this.doc, id)?.get('updatedAt');
		if (typeof at === 'number') taskIndexOf(this.#ws).noteMine(id, at);
	}

	/** Adds a card at the top or bottom of a column; throws if the doc will not take it. */
	create(title: string, status: TaskStatus, edge: 'top' | 'bottom'): string {
		const doc = this.doc;
		const id = createTask(doc, {
			createdBy: this.#ws.me.id,
			title: title.trim(),
			status,
			position: positionAtEdge(listTasks(doc), status, edge)
		});
		this.#noteMine(id);
		return id;
	}

	/** Moves a card to `status` between two neighbours, status and position in one transaction. */
	move(id: string, status: TaskStatus, position: string): boolean {
		const cur = this.task(id);
		if (!cur || (cur.status === status && cur.position === position)) return false;
		const ok = updateTask(this.doc, id, { status, position });
		if (ok) this.#noteMine(id);
		return ok;
	}

	/** I have seen the board as it is now. */
	markVisited() {
		// Called from effects: what it reads here must not become their dependency.
		untrack(() => {
			const now = Date.now();
			if (now <= this.#visit) return;
			taskIndexOf(this.#ws).noteVisit(this.id, now);
			if (!this.conversationId) return (this.#visit = now);
			const doc = this.#ws.meDoc.doc;
			doc.transact(() => meBoardVisitsOf(doc).set(this.conversationId!, now));
		});
	}
}

/** How long changed cards are in view before they count as seen. */
const SEEN_MS = 2_000;

/**
 * Call while a board is shown: changed cards keep their border until they have been in view
 * (tab visible and focused) for SEEN_MS, and leaving the board marks everything seen.
 */
export function markSeenWhileShown(board: BoardState) {
	let looking = $state(document.visibilityState === 'visible' && document.hasFocus());
	$effect(() => {
		const update = () => (looking = document.visibilityState === 'visible' && document.hasFocus());
		window.addEventListener('focus', update);
		window.addEventListener('blur', update);
		document.addEventListener('visibilitychange', update);
		return () => {
			window.removeEventListener('focus', update);
			window.removeEventListener('blur', update);
			document.removeEventListener('visibilitychange', update);
		};
	});
	$effect(() => {
		if (!looking || !board.synced.synced || board.unreadCount === 0) return;
		const timer = setTimeout(() => board.markVisited(), SEEN_MS);
		return () => clearTimeout(timer);
	});
	// Leaving (the route, or the page itself): what was shown has been seen, if it ever loaded.
	const leave = () => board.loaded && board.markVisited();
	$effect(() => {
		window.addEventListener('pagehide', leave);
		return () => {
			window.removeEventListener('pagehide', leave);
			leave();
		};
	});
}

/**
 * Board docs opened on demand, for a view showing cards of many boards (All tasks): a card is
 * moved or opened in its own board's doc. They stay open, and live, until the view is left.
 */
export class OpenBoards {
	#ws: WorkspaceState;
	#boards = $state.raw<Map<string, { board: BoardState; stop: () => void }>>(new Map());

	constructor(ws: WorkspaceState) {
		this.#ws = ws;
		$effect(() => () => this.#boards.forEach((b) => b.stop()));
	}

	has(id: string): BoardState | undefined {
		return this.#boards.get(id)?.board;
	}

	open(id: string, conversationId: string | null): BoardState {
		const open = untrack(() => this.#boards.get(id));
		if (open) return open.board;
		let board!: BoardState;
		// Opened from an event handler, outside any component's setup: the board's effects need a root.
		const stop = $effect.root(() => {
			board = new BoardState(this.#ws, id, conversationId);
		});
		this.#boards = new Map([...untrack(() => this.#boards), [id, { board, stop }]]);
		return board;
	}

	/** Resolves once the board holds the server's state (a move must place among the live cards). */
	ready(board: BoardState, timeoutMs = 10_000): Promise<boolean> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => done(false), timeoutMs);
			let stop = () => {};
			const done = (ok: boolean) => {
				clearTimeout(timer);
				queueMicrotask(() => stop());
				resolve(ok);
			};
			stop = $effect.root(() => {
				$effect(() => {
					if (board.synced.synced) done(true);
				});
			});
		});
	}
}
