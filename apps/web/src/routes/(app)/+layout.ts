import { redirect } from '@sveltejs/kit';
import { api, ApiRequestError } from '$lib/api';
import { cachedSession, forgetSession, saveSession } from '$lib/state/session-cache';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async () => {
	try {
		const session = await api.me();
		saveSession(session);
		return { session };
	} catch (err) {
		if (err instanceof ApiRequestError && err.status === 401) {
			forgetSession();
			redirect(307, '/login');
		}
		// Offline (or the server is restarting): open with the last session; the docs are cached.
		const cached = err instanceof ApiRequestError && (err.status === 0 || err.status >= 502) ? cachedSession() : null;
		if (cached) return { session: cached };
		throw err;
	}
};
