export { SyncedDoc, syncServerUrl } from './synced-doc.svelte';
export type { SyncStatus, SyncedDocOptions } from './synced-doc.svelte';
export { clearCachedDocs } from './cache';
