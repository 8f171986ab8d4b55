/**
 * The last good session, kept so the app still opens offline (local-first: the docs are in
 * IndexedDB; only "who am I" would otherwise need the network). Cleared on sign-out.
 */
import type { Session } from '$lib/api';

const KEY = 'circlechat:session';

export function saveSession(session: Session) {
	localStorage.setItem(KEY, JSON.stringify(session));
}

export function cachedSession(): Session | null {
	try {
		const raw = localStorage.getItem(KEY);
		return raw ? (JSON.parse(raw) as Session) : null;
	} catch {
		return null;
	}
}

export function forgetSession() {
	localStorage.removeItem(KEY);
}
