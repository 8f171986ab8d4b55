/**
 * Names of docs this browser has cached in IndexedDB, so signing out can erase them: the next
 * person on this browser must not read the last one's conversations offline.
 */
import { outboxDbName } from './outbox';
import { forgetUnsynced, REFUSED_DB } from './local-changes';
import { clearSnapshots } from './snapshot-index';

const KEY = 'circlechat:cached-docs';

function read(): string[] {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
		return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
	} catch {
		return [];
	}
}

/** Notes that `name` is cached from now on; true when this browser had cached it already. */
export function rememberCachedDoc(name: string): boolean {
	const names = read();
	if (names.includes(name)) return true;
	names.push(name);
	localStorage.setItem(KEY, JSON.stringify(names));
	return false;
}

/** This browser has cached some doc (my `me:` doc, at least, once I have opened the app here). */
export function hasCachedDocs(): boolean {
	return read().length > 0;
}

/** Some segment of the conversation is cached in this browser (IndexedDB has messages to show). */
export function hasCachedConversation(conversationId: string): boolean {
	const prefix = `conv:${conversationId}:`;
	return read().some((name) => name.startsWith(prefix));
}

/** Run before the cached docs are erased (the doc pool closes the docs it keeps open). */
const beforeClear = new Set<() => void>();
export function beforeClearingDocs(fn: () => void) {
	beforeClear.add(fn);
}

export async function clearCachedDocs() {
	beforeClear.forEach((fn) => fn());
	const names = read();
	localStorage.removeItem(KEY);
	clearSnapshots();
	forgetUnsynced();
	await Promise.all(
		[...names.flatMap((name) => [name, outboxDbName(name)]), REFUSED_DB].map(
			(name) =>
				new Promise<void>((resolve) => {
					const req = indexedDB.deleteDatabase(name);
					req.onsuccess = req.onerror = req.onblocked = () => resolve();
				})
		)
	);
}
