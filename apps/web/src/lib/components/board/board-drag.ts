/**
 * Where a lifted card would land, shared by mouse, touch and keyboard dragging. The board shows
 * the columns with the card already at its target (a preview), and writes nothing until the drop.
 */
import { TASK_STATUSES, type TaskStatus } from '@circlechat/model';
import { STATUS_LABELS, type BoardCard, type Columns } from '$lib/state/board.svelte';

export interface Spot {
	status: TaskStatus;
	/** Index in the target column without the lifted card. */
	index: number;
}

export interface Lift {
	card: BoardCard;
	from: Spot;
	to: Spot;
	mode: 'pointer' | 'keyboard';
}

/** The columns without one card. */
export function withoutCard(cols: Columns, id: string): Columns {
	const out = {} as Columns;
	for (const s of TASK_STATUSES) out[s] = cols[s].filter((c) => c.task.id !== id);
	return out;
}

/** The columns as they look with the lifted card at its target. */
export function previewColumns(cols: Columns, lift: Lift | null): Columns {
	if (!lift) return cols;
	const out = withoutCard(cols, lift.card.task.id);
	const target = [...out[lift.to.status]];
	target.splice(Math.min(lift.to.index, target.length), 0, lift.card);
	out[lift.to.status] = target;
	return out;
}

export function spotOf(cols: Columns, id: string): Spot | null {
	for (const status of TASK_STATUSES) {
		const index = cols[status].findIndex((c) => c.task.id === id);
		if (index >= 0) return { status, index };
	}
	return null;
}

/** One arrow key's move of a lifted card; null when it cannot go that way. */
export function stepSpot(cols: Columns, lift: Lift, key: 'ArrowUp' | 'ArrowDown' | 'ArrowLeft' | 'ArrowRight'): Spot | null {
	const rest = withoutCard(cols, lift.card.task.id);
	const { status, index } = lift.to;
	if (key === 'ArrowUp') return index > 0 ? { status, index: index - 1 } : null;
	if (key === 'ArrowDown') return index < rest[status].length ? { status, index: index + 1 } : null;
	const col = TASK_STATUSES.indexOf(status) + (key === 'ArrowLeft' ? -1 : 1);
	const next = TASK_STATUSES[col];
	return next ? { status: next, index: Math.min(index, rest[next].length) } : null;
}

/** "In progress, position 2 of 5": where the card is, counting itself. */
export function describeSpot(cols: Columns, lift: Lift): string {
	const n = withoutCard(cols, lift.card.task.id)[lift.to.status].length + 1;
	return `${STATUS_LABELS[lift.to.status]}, position ${lift.to.index + 1} of ${n}`;
}
