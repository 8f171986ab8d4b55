import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendMessage, editMessage, toggleReaction } from '@circlechat/model';
import { pendingItemIds } from './pending-items';
import { RECONNECT_CAP_MS, reconnectDelay } from './reconnect';

/** Records each local transaction's update, as the outbox does. */
function recorded(doc: Y.Doc) {
	const updates: Uint8Array[] = [];
	doc.on('update', (u: Uint8Array) => updates.push(u));
	return updates;
}

describe('pendingItemIds', () => {
	it('names the messages that unsent updates create, edit or react to, and no others', () => {
		const doc = new Y.Doc();
		const sent = appendMessage(doc, { author: 'member_aaaaaaaaaaaaaaaa', body: 'already on the server' });
		const other = appendMessage(doc, { author: 'member_aaaaaaaaaaaaaaaa', body: 'untouched' });
		const updates = recorded(doc);
		const fresh = appendMessage(doc, { author: 'member_aaaaaaaaaaaaaaaa', body: 'written offline' });
		expect(pendingItemIds(doc, updates)).toEqual(new Set([fresh]));
		editMessage(doc, sent, 'edited offline', []);
		toggleReaction(doc, sent, 'member_aaaaaaaaaaaaaaaa', '👍');
		const ids = pendingItemIds(doc, updates);
		expect(ids).toEqual(new Set([fresh, sent]));
		expect(ids.has(other)).toBe(false);
	});

	it('ignores updates whose items this doc does not hold', () => {
		const a = new Y.Doc();
		const updates = recorded(a);
		appendMessage(a, { author: 'member_aaaaaaaaaaaaaaaa', body: 'elsewhere' });
		expect(pendingItemIds(new Y.Doc(), updates)).toEqual(new Set());
	});
});

describe('reconnectDelay', () => {
	it('waits a random time within a window that doubles up to the cap', () => {
		expect(reconnectDelay(0, () => 1)).toBe(500);
		expect(reconnectDelay(2, () => 1)).toBe(2000);
		expect(reconnectDelay(30, () => 1)).toBe(RECONNECT_CAP_MS);
		expect(reconnectDelay(30, () => 0)).toBe(0);
		const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(5)));
		expect(spread.size).toBeGreaterThan(40);
	});
});
