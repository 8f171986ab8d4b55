export { SyncedDoc, syncServerUrl } from './synced-doc.svelte';
export type { SyncStatus, SyncedDocHooks } from './synced-doc.svelte';
export { clearCachedDocs } from './cache';
