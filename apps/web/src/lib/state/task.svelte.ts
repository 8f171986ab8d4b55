/**
 * One task of a board doc as the task modal shows it: the task, the board's other tasks (for
 * subtasks, the parent and link pickers, and links that point here), its comments and activity,
 * and the board's label palette. Kept current by observing the doc; writes go through the
 * board helpers of @circlechat/model, which the relay's guard checks (SPEC.md BRD1–BRD6).
 */
import type * as Y from 'yjs';
import { goto } from '$app/navigation';
import {
	MAX_DESCRIPTION_CHARS,
	MAX_TITLE_CHARS,
	activityOf,
	activityOfTask,
	boardLabelsOf,
	commentsOf,
	listComments,
	followTasks,
	type ActivityEntry,
	type LinkKind,
	type Task,
	type TaskComment
} from '@circlechat/model';
import { api, errorMessage } from '$lib/api';
import { toasts } from './toasts.svelte';

/** How a link reads from the task it points at. */
export const INVERSE_LINK: Record<LinkKind, string> = { relates: 'relates to', blocks: 'blocked by', duplicates: 'duplicated by' };
export const LINK_LABEL: Record<LinkKind, string> = { relates: 'relates to', blocks: 'blocks', duplicates: 'duplicates' };

export const STATUS_LABEL = { backlog: 'Backlog', in_progress: 'In progress', review: 'Review', done: 'Done' } as const;

/** A link of another task that points at this one. */
export interface Backlink {
	from: Task;
	linkId: string;
	kind: LinkKind;
}

export function backlinksTo(tasks: Task[], id: string): Backlink[] {
	const out: Backlink[] = [];
	for (const t of tasks) if (t.id !== id) for (const l of t.links) if (l.taskId === id) out.push({ from: t, linkId: l.id, kind: l.kind });
	return out;
}

export class TaskView {
	#task = $state.raw<Task | null>(null);
	#tasks = $state.raw<Task[]>([]);
	#comments = $state.raw<TaskComment[]>([]);
	#activity = $state.raw<ActivityEntry[]>([]);
	#labels = $state.raw<[string, string][]>([]);

	/** Both getters are read inside effects: a reset replaces the doc, the route may change the task. */
	constructor(doc: () => Y.Doc, taskId: () => string) {
		$effect(() => {
			const d = doc();
			const id = taskId();
			return followTasks(d, (list) => {
				this.#tasks = list;
				this.#task = list.find((t) => t.id === id) ?? null;
			});
		});
		$effect(() => {
			const d = doc();
			const id = taskId();
			const comments = commentsOf(d);
			const read = () => (this.#comments = listComments(d, id));
			read();
			comments.observeDeep(read);
			return () => comments.unobserveDeep(read);
		});
		$effect(() => {
			const d = doc();
			const id = taskId();
			const activity = activityOf(d);
			const read = () => (this.#activity = activityOfTask(d, id));
			read();
			activity.observe(read);
			return () => activity.unobserve(read);
		});
		$effect(() => {
			const labels = boardLabelsOf(doc());
			const read = () => (this.#labels = [...labels.entries()].sort(([a], [b]) => a.localeCompare(b)));
			read();
			labels.observe(read);
			return () => labels.unobserve(read);
		});
	}

	/** Null while the doc has not loaded it, or once it was deleted. */
	get task(): Task | null {
		return this.#task;
	}
	/** Every task on the board (not deleted), in board order. */
	get tasks(): Task[] {
		return this.#tasks;
	}
	get comments(): TaskComment[] {
		return this.#comments;
	}
	get activity(): ActivityEntry[] {
		return this.#activity;
	}
	/** The board's palette, name → colour, by name. */
	get labels(): [string, string][] {
		return this.#labels;
	}
	get subtasks(): Task[] {
		const id = this.#task?.id;
		return id ? this.#tasks.filter((t) => t.parentId === id) : [];
	}
	get backlinks(): Backlink[] {
		const id = this.#task?.id;
		return id ? backlinksTo(this.#tasks, id) : [];
	}
	taskById(id: string): Task | undefined {
		return this.#tasks.find((t) => t.id === id);
	}
}

/** Title and body of a task made from a message (POST /api/tasks): the first line, then the text and a link back. */
export function taskFromMessage(body: string, link: string): { title: string; bodyMd: string } {
	const first = body.split('\n').find((l) => l.trim()) ?? '';
	// A heading, list or quote marker reads as noise in a card's title.
	const title = first.replace(/^\s*(#{1,6}\s+|[-*+]\s+|>\s*)/, '').trim().slice(0, MAX_TITLE_CHARS) || 'Task from a message';
	const back = `\n\n[From the message](${link})`;
	return { title, bodyMd: body.trim().slice(0, MAX_DESCRIPTION_CHARS - back.length) + back };
}

/** Makes a task of a message on its conversation's board, then opens the board on it. */
export async function createTaskFromMessage(conversationId: string, message: { id: string; body: string }) {
	const link = new URL(`/c/${conversationId}?m=${message.id}`, location.origin).href;
	const { title, bodyMd } = taskFromMessage(message.body, link);
	try {
		const { task } = await api.createTask({ conversationId, title, bodyMd, source: { conversationId, messageId: message.id } });
		toasts.success('Task created');
		await goto(`/c/${conversationId}/board?task=${encodeURIComponent(task.id)}`);
	} catch (err) {
		toasts.error(`The task was not created: ${errorMessage(err)}`);
	}
}

/** Another tab editing a text of a task: who, which text, and the caret (Y.RelativePosition JSON). */
export interface TaskEditor {
	clientId: number;
	memberId: string;
	field: 'title' | 'description';
	caret: unknown;
}

/** What each tab publishes in the board doc's awareness while a task's text has its focus. */
export interface EditingState {
	taskId: string;
	field: 'title' | 'description';
	caret: unknown;
}

/** Everyone but this tab editing `taskId`, from the board doc's awareness states. */
export function editorsOf(states: Map<number, Record<string, unknown>>, myClientId: number, taskId: string): TaskEditor[] {
	const out: TaskEditor[] = [];
	for (const [clientId, state] of states) {
		if (clientId === myClientId) continue;
		const e = state.editing as Partial<EditingState> | null | undefined;
		if (typeof state.memberId !== 'string' || !e || e.taskId !== taskId) continue;
		if (e.field !== 'title' && e.field !== 'description') continue;
		out.push({ clientId, memberId: state.memberId, field: e.field, caret: e.caret });
	}
	return out.sort((a, b) => a.clientId - b.clientId);
}

/** "Ada is editing", "Ada and Bob are editing", "Ada, Bob and 2 more are editing". */
export function editingText(names: string[]): string {
	if (names.length === 0) return '';
	if (names.length === 1) return `${names[0]} is editing`;
	if (names.length === 2) return `${names[0]} and ${names[1]} are editing`;
	return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more are editing`;
}

/** The colour of a member's caret: the same hue as their avatar (Avatar.svelte's palette order). */
const CARET_COLOURS = ['#f43f5e', '#f59e0b', '#059669', '#0284c7', '#7c3aed', '#c026d3', '#0d9488', '#6366f1'];
export const caretColour = (id: string) => CARET_COLOURS[[...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % CARET_COLOURS.length]!;
