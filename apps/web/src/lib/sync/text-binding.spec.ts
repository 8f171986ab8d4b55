import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { bindText, caretFromJSON, caretToJSON, diffText, transformIndex, transformSelection, type Splice } from './text-binding';

const apply = (s: string, p: Splice | null) => (p ? s.slice(0, p.index) + p.insert + s.slice(p.index + p.remove) : s);

describe('diffText', () => {
	it('finds the changed middle of an insert, a delete and a replace', () => {
		expect(diffText('hello world', 'hello, world', 6)).toEqual({ index: 5, remove: 0, insert: ',' });
		expect(diffText('hello world', 'helloworld', 5)).toEqual({ index: 5, remove: 1, insert: '' });
		expect(diffText('the cat sat', 'the dog sat', 7)).toEqual({ index: 4, remove: 3, insert: 'dog' });
		expect(diffText('same', 'same')).toBeNull();
		expect(diffText('', 'typed', 5)).toEqual({ index: 0, remove: 0, insert: 'typed' });
		expect(diffText('all gone', '', 0)).toEqual({ index: 0, remove: 8, insert: '' });
	});

	it('places an insert into a run of one character where the caret is', () => {
		// "aa" → "aaa" with the caret after the first new "a" (index 2): inserted at 1, not at the end.
		expect(diffText('aa', 'aaa', 2)).toEqual({ index: 1, remove: 0, insert: 'a' });
		expect(diffText('aa', 'aaa', 1)).toEqual({ index: 0, remove: 0, insert: 'a' });
		expect(diffText('aa', 'aaa', 3)).toEqual({ index: 2, remove: 0, insert: 'a' });
		// Backspace in a run: the character before the caret goes.
		expect(diffText('xaaay', 'xaay', 2)).toEqual({ index: 2, remove: 1, insert: '' });
	});

	it('never splits a surrogate pair', () => {
		const prev = 'a😀b';
		const next = 'a😃b';
		const p = diffText(prev, next, 3)!;
		expect(p).toEqual({ index: 1, remove: 2, insert: '😃' });
		expect(apply(prev, p)).toBe(next);
	});

	it('always rebuilds next from prev', () => {
		const cases: [string, string, number][] = [
			['abcabc', 'abcXabc', 4],
			['abcabc', 'abc', 3],
			['mississippi', 'missippi', 4],
			['  ', '   ', 1],
			['line\n\nline', 'line\nline', 5]
		];
		for (const [prev, next, caret] of cases) expect(apply(prev, diffText(prev, next, caret))).toBe(next);
	});
});

describe('transformIndex', () => {
	it('shifts a caret by text inserted or deleted before it', () => {
		expect(transformIndex(5, [{ insert: 'abc' }])).toBe(8);
		expect(transformIndex(5, [{ retain: 2 }, { delete: 2 }])).toBe(3);
		expect(transformIndex(5, [{ retain: 6 }, { insert: 'x' }])).toBe(5);
		expect(transformIndex(5, [{ retain: 7 }, { delete: 3 }])).toBe(5);
	});

	it('keeps a caret before text inserted right at it unless asked otherwise', () => {
		expect(transformIndex(5, [{ retain: 5 }, { insert: 'xy' }])).toBe(5);
		expect(transformIndex(5, [{ retain: 5 }, { insert: 'xy' }], 'after')).toBe(7);
	});

	it('moves a caret inside deleted text to where the deletion was', () => {
		expect(transformIndex(5, [{ retain: 3 }, { delete: 4 }])).toBe(3);
		expect(transformIndex(5, [{ retain: 3 }, { delete: 4 }, { insert: 'new' }])).toBe(3);
	});

	it('follows several edits in one delta', () => {
		// "0123456789" with the caret at 6: insert "ab" at 1, delete 3..4, insert "z" at 8.
		const delta = [{ retain: 1 }, { insert: 'ab' }, { retain: 2 }, { delete: 2 }, { retain: 3 }, { insert: 'z' }];
		expect(transformIndex(6, delta)).toBe(6);
		expect(transformIndex(9, delta)).toBe(10);
	});

	it('does not let a selection swallow inserts at its edges', () => {
		expect(transformSelection(2, 4, [{ retain: 2 }, { insert: 'x' }])).toEqual([3, 5]);
		expect(transformSelection(2, 4, [{ retain: 4 }, { insert: 'x' }])).toEqual([2, 4]);
		expect(transformSelection(3, 3, [{ retain: 3 }, { insert: 'x' }])).toEqual([3, 3]);
	});
});

/** Enough of a focused <textarea> for the binding: value, selection, input events. */
class FakeTextarea {
	value = '';
	selectionStart = 0;
	selectionEnd = 0;
	selectionDirection: 'forward' | 'backward' | 'none' = 'none';
	#listeners: (() => void)[] = [];
	ownerDocument: { activeElement: unknown } = { activeElement: this };
	addEventListener(_: string, fn: () => void) {
		this.#listeners.push(fn);
	}
	removeEventListener(_: string, fn: () => void) {
		this.#listeners = this.#listeners.filter((f) => f !== fn);
	}
	setSelectionRange(start: number, end: number) {
		this.selectionStart = start;
		this.selectionEnd = end;
	}
	/** A key press as the browser does it: replace the selection, caret after, fire input. */
	type(s: string) {
		this.value = this.value.slice(0, this.selectionStart) + s + this.value.slice(this.selectionEnd);
		this.selectionStart = this.selectionEnd = this.selectionStart + s.length;
		for (const fn of this.#listeners) fn();
	}
	backspace() {
		if (this.selectionStart === 0) return;
		this.value = this.value.slice(0, this.selectionStart - 1) + this.value.slice(this.selectionEnd);
		this.selectionStart = this.selectionEnd = this.selectionStart - 1;
		for (const fn of this.#listeners) fn();
	}
}

/** Two replicas wired together with a one-way delay each: updates queue until flushed. */
function pair(initial: string) {
	const a = new Y.Doc();
	const b = new Y.Doc();
	a.getText('t').insert(0, initial);
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
	const toB: Uint8Array[] = [];
	const toA: Uint8Array[] = [];
	a.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && toB.push(u));
	b.on('update', (u: Uint8Array, origin: unknown) => origin !== 'remote' && toA.push(u));
	const flush = () => {
		for (const u of toB.splice(0)) Y.applyUpdate(b, u, 'remote');
		for (const u of toA.splice(0)) Y.applyUpdate(a, u, 'remote');
	};
	return { a, b, flush };
}

const bind = (doc: Y.Doc, maxLength?: number) => {
	const el = new FakeTextarea();
	bindText(el as unknown as HTMLTextAreaElement, doc.getText('t'), { maxLength });
	return el;
};

describe('bindText', () => {
	it('keeps every keystroke of two people typing at once, and each caret on its own text', () => {
		const { a, b, flush } = pair('Intro. Outro.');
		const ada = bind(a);
		const bob = bind(b);
		ada.setSelectionRange(6, 6);
		bob.setSelectionRange(13, 13);
		const adaWords = ' ada types here';
		const bobWords = ' bob types there';
		for (let i = 0; i < Math.max(adaWords.length, bobWords.length); i++) {
			if (adaWords[i]) ada.type(adaWords[i]!);
			if (bobWords[i]) bob.type(bobWords[i]!);
			// Sync every other round so edits cross in flight.
			if (i % 2) flush();
		}
		flush();
		const want = 'Intro. ada types here Outro. bob types there';
		expect(a.getText('t').toString()).toBe(want);
		expect(b.getText('t').toString()).toBe(want);
		expect(ada.value).toBe(want);
		expect(bob.value).toBe(want);
		expect(ada.selectionEnd).toBe('Intro. ada types here'.length);
		expect(bob.selectionEnd).toBe(want.length);
	});

	it('keeps both when typing at the same spot, each caret behind its own text', () => {
		const { a, b, flush } = pair('[]');
		const ada = bind(a);
		const bob = bind(b);
		ada.setSelectionRange(1, 1);
		bob.setSelectionRange(1, 1);
		for (const ch of 'aaaa') {
			ada.type(ch);
			bob.type('b');
			flush();
		}
		const text = a.getText('t').toString();
		expect(text).toBe(b.getText('t').toString());
		expect(text.replace(/[[\]]/g, '').split('').sort().join('')).toBe('aaaabbbb');
		expect(ada.value).toBe(text);
		// Typing continues right after each person's own last character.
		expect(text[ada.selectionEnd - 1]).toBe('a');
		expect(text[bob.selectionEnd - 1]).toBe('b');
	});

	it('deletes only what was deleted locally', () => {
		const { a, b, flush } = pair('abcdef');
		const ada = bind(a);
		const bob = bind(b);
		ada.setSelectionRange(3, 3);
		ada.backspace();
		bob.setSelectionRange(6, 6);
		bob.type('g');
		flush();
		expect(a.getText('t').toString()).toBe('abdefg');
		expect(bob.value).toBe('abdefg');
		expect(bob.selectionEnd).toBe(6);
	});

	it('undoes an input that would pass the length bound', () => {
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'abcd');
		const el = bind(doc, 5);
		el.setSelectionRange(4, 4);
		el.type('e');
		el.type('fg');
		expect(doc.getText('t').toString()).toBe('abcde');
		expect(el.value).toBe('abcde');
		expect(el.selectionEnd).toBe(5);
	});
});

describe('caret positions in awareness', () => {
	it('stick to their character across remote edits and survive JSON', () => {
		const { a, b, flush } = pair('hello world');
		const json = JSON.parse(JSON.stringify(caretToJSON(a.getText('t'), 6)));
		b.getText('t').insert(0, '>> ');
		flush();
		expect(caretFromJSON(a.getText('t'), json)).toBe(9);
		expect(caretFromJSON(b.getText('t'), json)).toBe(9);
		expect(caretFromJSON(a.getText('other'), json)).toBeNull();
		expect(caretFromJSON(a.getText('t'), { nonsense: true })).toBeNull();
		expect(caretFromJSON(a.getText('t'), 'x')).toBeNull();
	});
});
