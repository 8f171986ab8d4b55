/**
 * Names of docs this browser has cached in IndexedDB, so signing out can erase them: the next
 * person on this browser must not read the last one's conversations offline.
 */
import { outboxDbName } from './outbox';
import { forgetUnsynced, REFUSED_DB } from './local-changes';

const KEY = 'circlechat:cached-docs';

function read(): string[] {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
		return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
	} catch {
		return [];
	}
}

export function rememberCachedDoc(name: string) {
	const names = read();
	if (names.includes(name)) return;
	names.push(name);
	localStorage.setItem(KEY, JSON.stringify(names));
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
