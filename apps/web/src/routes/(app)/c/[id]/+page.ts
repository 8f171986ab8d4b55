import { fetchFirstPage } from '$lib/state/conversation.svelte';
import { hasCachedDocs } from '$lib/sync';
import { loadRows } from '$lib/components/conversation/rows-loader';
import type { PageLoad } from './$types';

// Runs alongside the layout's session request, before my conversations are known: the rows'
// chunk starts loading, and a browser that holds nothing at all (a first visit) asks for the
// conversation and its newest messages over REST, shown while the docs sync (ConversationState).
// A browser with my me: doc cached knows my conversations from it in a moment.
export const load: PageLoad = ({ params }) => {
	void loadRows().catch(() => {}); // the list says so if it fails
	return { firstPage: hasCachedDocs() ? null : fetchFirstPage(params.id) };
};
