/**
 * Binds a plain <textarea> to a Y.Text so several people can type in it at once. A local input
 * becomes one delete+insert of the changed middle (never a rewrite of the whole text, which
 * would drop what others typed meanwhile); a remote change rewrites the element's value and
 * moves the local selection by the change's delta so the caret stays on the same character.
 * Carets travel in awareness as Y.RelativePosition JSON: they stick to a character, not an index.
 */
import * as Y from 'yjs';

/** One edit: remove `remove` characters at `index`, then insert `insert` there. */
export interface Splice {
	index: number;
	remove: number;
	insert: string;
}

/** A Y.Text delta (YTextEvent.delta), positions in the text before the change. */
export type TextDelta = { insert?: string | object; retain?: number; delete?: number }[];

const isHigh = (s: string, i: number) => {
	const c = s.charCodeAt(i);
	return c >= 0xd800 && c <= 0xdbff;
};

/**
 * The changed middle between `prev` and `next`. `caret` is where the selection ends in `next`
 * after the edit: typing happens before the caret, so the common tail never reaches behind it,
 * which settles runs of the same character ("aa" → "aaa" inserts where the caret is).
 */
export function diffText(prev: string, next: string, caret = next.length): Splice | null {
	if (prev === next) return null;
	const maxTail = Math.max(0, Math.min(prev.length, next.length - Math.min(caret, next.length)));
	let tail = 0;
	while (tail < maxTail && prev[prev.length - 1 - tail] === next[next.length - 1 - tail]) tail++;
	const maxHead = Math.min(prev.length, next.length) - tail;
	let head = 0;
	while (head < maxHead && prev[head] === next[head]) head++;
	// Never split a surrogate pair: an emoji is edited whole.
	if (head > 0 && isHigh(prev, head - 1)) head--;
	if (tail > 0 && prev.length - tail > head && isHigh(prev, prev.length - tail - 1)) tail--;
	return { index: head, remove: prev.length - head - tail, insert: next.slice(head, next.length - tail) };
}

/**
 * Where position `pos` of the old text lands after `delta`. Text inserted exactly at `pos` goes
 * after it (`stick: 'before'`, a caret keeps typing where it was) or before it (`'after'`).
 * A position inside deleted text moves to where the deletion was.
 */
export function transformIndex(pos: number, delta: TextDelta, stick: 'before' | 'after' = 'before'): number {
	let index = 0;
	let shift = 0;
	for (const op of delta) {
		if (index > pos) break;
		if (op.retain !== undefined) index += op.retain;
		else if (op.insert !== undefined) {
			const len = typeof op.insert === 'string' ? op.insert.length : 1;
			if (index < pos || (index === pos && stick === 'after')) shift += len;
		} else if (op.delete !== undefined) {
			if (pos > index) shift -= Math.min(pos, index + op.delete) - index;
			index += op.delete;
		}
	}
	return pos + shift;
}

/** A selection after a remote change: a caret stays a caret, a range does not swallow inserts at its edges. */
export function transformSelection(start: number, end: number, delta: TextDelta): [number, number] {
	if (start === end) {
		const at = transformIndex(start, delta);
		return [at, at];
	}
	const s = transformIndex(start, delta, 'after');
	return [s, Math.max(s, transformIndex(end, delta, 'before'))];
}

export function applySplice(text: Y.Text, splice: Splice) {
	if (splice.remove > 0) text.delete(splice.index, splice.remove);
	if (splice.insert) text.insert(splice.index, splice.insert);
}

/** My caret for awareness: sticks to the character it is next to, whatever others type before it. */
export function caretToJSON(text: Y.Text, index: number): unknown {
	return Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, index));
}

/** Another editor's caret as an index into `text`, or null when it points elsewhere or is not one. */
export function caretFromJSON(text: Y.Text, json: unknown): number | null {
	if (!json || typeof json !== 'object' || !text.doc) return null;
	try {
		const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), text.doc);
		return abs && abs.type === text ? Math.min(abs.index, text.length) : null;
	} catch {
		return null;
	}
}

export interface TextBindingOptions {
	/** The guard refuses text past this bound (and would reset the doc): an input that goes past it is undone. */
	maxLength?: number;
	/** After any change to the element's value (local or remote): to resize it, redraw carets. */
	onchange?: () => void;
}

/** Binds `el` to `text` until the returned function is called. */
export function bindText(el: HTMLTextAreaElement, text: Y.Text, opts: TextBindingOptions = {}): () => void {
	const doc = text.doc;
	if (!doc) throw new Error('bindText: the Y.Text is not in a doc');
	// This binding's own transactions, told apart from other local writers (a replay after a reset).
	const origin = { binding: true };
	let shadow = text.toString();
	el.value = shadow;

	const oninput = () => {
		const next = el.value;
		if (opts.maxLength !== undefined && next.length > opts.maxLength && next.length > shadow.length) {
			const back = Math.max(0, (el.selectionEnd ?? next.length) - (next.length - shadow.length));
			el.value = shadow;
			el.setSelectionRange(back, back);
			return;
		}
		const splice = diffText(shadow, next, el.selectionEnd ?? next.length);
		shadow = next;
		if (splice) doc.transact(() => applySplice(text, splice), origin);
		opts.onchange?.();
	};

	const observer = (event: Y.YTextEvent) => {
		if (event.transaction.origin === origin) return;
		const next = text.toString();
		if (next === el.value) {
			shadow = next;
			return;
		}
		const focused = el.ownerDocument.activeElement === el;
		const [start, end] = transformSelection(el.selectionStart ?? 0, el.selectionEnd ?? 0, event.delta as TextDelta);
		const direction = el.selectionDirection;
		el.value = next;
		shadow = next;
		if (focused) el.setSelectionRange(start, end, direction ?? undefined);
		opts.onchange?.();
	};

	el.addEventListener('input', oninput);
	text.observe(observer);
	return () => {
		el.removeEventListener('input', oninput);
		text.unobserve(observer);
	};
}
