/**
 * What this browser holds that the server does not have yet, kept across reloads and tab closes:
 *   - which docs have unsent local changes (their outbox is not empty), so the shell reopens
 *     each of them when it starts or the network returns, not only the one on screen. Kept in
 *     localStorage (read synchronously at start; a stale entry only opens a doc whose outbox
 *     turns out empty).
 *   - changes the relay refused, with their bytes, reason and text, in IndexedDB until the
 *     person dismisses them: a refusal never loses what they wrote.
 * Both are erased on sign-out with the cached docs (cache.ts).
 */
import type { RefusedChange } from './outbox';

const UNSYNCED_KEY = 'circlechat:unsynced-docs';

export interface UnsyncedDoc {
	/** The conversation the doc belongs to (null: the me: doc, a workspace board). */
	conversationId: string | null;
	/** Local changes not yet acknowledged. */
	count: number;
}

function readUnsynced(): Record<string, UnsyncedDoc> {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(UNSYNCED_KEY) ?? '{}');
		return parsed && typeof parsed === 'object' ? (parsed as Record<string, UnsyncedDoc>) : {};
	} catch {
		return {};
	}
}

export function unsyncedDocs(): Map<string, UnsyncedDoc> {
	return new Map(Object.entries(readUnsynced()));
}

/** Records a doc's unsent count (0 removes it). */
export function setUnsynced(name: string, conversationId: string | null, count: number) {
	const all = readUnsynced();
	if (count > 0 ? all[name]?.count === count && all[name]?.conversationId === conversationId : !(name in all)) return;
	if (count > 0) all[name] = { conversationId, count };
	else delete all[name];
	localStorage.setItem(UNSYNCED_KEY, JSON.stringify(all));
}

export function forgetUnsynced() {
	localStorage.removeItem(UNSYNCED_KEY);
}

/** A refused change as kept: which doc and conversation it was for. */
export interface RefusedRecord extends RefusedChange {
	/** `<docName>|<seq>`: unique per change. */
	key: string;
	docName: string;
	conversationId: string | null;
}

export const REFUSED_DB = 'circlechat:refused';
const listeners = new Set<() => void>();

let opened: Promise<IDBDatabase> | null = null;
function db(): Promise<IDBDatabase> {
	return (opened ??= new Promise<IDBDatabase>((resolve, reject) => {
		const req = indexedDB.open(REFUSED_DB, 1);
		req.onupgradeneeded = () => req.result.createObjectStore('changes', { keyPath: 'key' });
		req.onsuccess = () => {
			// Sign-out deletes the database: let it go instead of blocking the delete.
			req.result.onversionchange = () => {
				req.result.close();
				opened = null;
			};
			resolve(req.result);
		};
		req.onerror = () => reject(req.error);
	}));
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest | void): Promise<T> {
	const d = await db();
	return new Promise<T>((resolve, reject) => {
		const t = d.transaction('changes', mode);
		const req = fn(t.objectStore('changes'));
		t.oncomplete = () => resolve((req ? req.result : undefined) as T);
		t.onerror = t.onabort = () => reject(t.error);
	});
}

export const refusedStore = {
	async load(): Promise<RefusedRecord[]> {
		const all = await tx<RefusedRecord[]>('readonly', (s) => s.getAll());
		return all.sort((a, b) => a.at - b.at);
	},
	async add(docName: string, conversationId: string | null, changes: RefusedChange[]) {
		if (changes.length === 0) return;
		await tx('readwrite', (s) => void changes.forEach((c) => s.put({ ...c, key: `${docName}|${c.seq}`, docName, conversationId })));
		listeners.forEach((l) => l());
	},
	async remove(keys: string[]) {
		await tx('readwrite', (s) => void keys.forEach((k) => s.delete(k)));
		listeners.forEach((l) => l());
	},
	/** Called after every add or remove (in this tab). */
	subscribe(listener: () => void): () => void {
		listeners.add(listener);
		return () => listeners.delete(listener);
	}
};
