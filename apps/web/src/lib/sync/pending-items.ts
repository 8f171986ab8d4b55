/**
 * Which items (messages, replies, tasks, comments: any Y.Map with a string `id`) unsent local
 * changes touch, so each can show "Sending…" until the relay acknowledges it. Read from the
 * outbox's updates through the live doc, which holds every local item: O(size of the outbox).
 */
import * as Y from 'yjs';

function idsAbove(type: Y.AbstractType<unknown> | null, out: Set<string>) {
	for (let t = type; t; t = (t._item?.parent as Y.AbstractType<unknown> | undefined) ?? null) {
		if (t instanceof Y.Map) {
			const id = t.get('id');
			if (typeof id === 'string') out.add(id);
		}
	}
}

function visit(doc: Y.Doc, client: number, clock: number, out: Set<string>) {
	let item: Y.Item | Y.GC;
	try {
		item = Y.getItem(doc.store, Y.createID(client, clock)) as Y.Item | Y.GC;
	} catch {
		return; // not in this doc (e.g. reopened from the server since)
	}
	if (!(item instanceof Y.Item)) return;
	if (item.content instanceof Y.ContentType) idsAbove(item.content.type as Y.AbstractType<unknown>, out);
	else idsAbove(item.parent as Y.AbstractType<unknown>, out);
}

export function pendingItemIds(doc: Y.Doc, updates: readonly Uint8Array[]): Set<string> {
	const out = new Set<string>();
	for (const update of updates) {
		let decoded: ReturnType<typeof Y.decodeUpdate>;
		try {
			decoded = Y.decodeUpdate(update);
		} catch {
			continue;
		}
		for (const s of decoded.structs) if (s instanceof Y.Item) visit(doc, s.id.client, s.id.clock, out);
		for (const [client, ranges] of decoded.ds.clients) for (const r of ranges) visit(doc, client, r.clock, out);
	}
	return out;
}
