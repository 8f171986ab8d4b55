import { redirect } from '@sveltejs/kit';
import { api, ApiRequestError } from '$lib/api';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async () => {
	try {
		return { session: await api.me() };
	} catch (err) {
		if (err instanceof ApiRequestError && err.status === 401) redirect(307, '/login');
		throw err;
	}
};
