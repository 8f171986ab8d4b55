export { SyncedDoc, syncServerUrl, syncedDocOf } from './synced-doc.svelte';
export type { SyncStatus, SyncedDocOptions } from './synced-doc.svelte';
export { clearCachedDocs } from './cache';
