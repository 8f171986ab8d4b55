/**
 * The message rows' chunk and the markdown renderer their bodies need (~70 KB gzip together) are
 * not part of the shell. Fetched once: by the conversation route's load (alongside the session and
 * the first messages) and by the message list, which shows no row before both are here.
 */
import { markdown } from '$lib/markdown-loader.svelte';

type Rows = typeof import('./MessageRow.svelte').default;
let loading: Promise<Rows> | null = null;

export function loadRows(): Promise<Rows> {
	loading ??= Promise.all([import('./MessageRow.svelte'), markdown.ensure()]).then(
		([m]) => m.default,
		(err: unknown) => {
			loading = null; // the next list tries again
			throw err;
		}
	);
	return loading;
}
