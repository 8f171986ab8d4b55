/**
 * Names of docs this browser has cached in IndexedDB, so signing out can erase them: the next
 * person on this browser must not read the last one's conversations offline.
 */
import { outboxDbName } from './outbox';

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

export async function clearCachedDocs() {
	const names = read();
	localStorage.removeItem(KEY);
	await Promise.all(
		names.flatMap((name) => [name, outboxDbName(name)]).map(
			(name) =>
				new Promise<void>((resolve) => {
					const req = indexedDB.deleteDatabase(name);
					req.onsuccess = req.onerror = req.onblocked = () => resolve();
				})
		)
	);
}
