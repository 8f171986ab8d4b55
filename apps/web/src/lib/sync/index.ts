export { SyncedDoc, syncServerUrl, syncedDocOf } from './synced-doc.svelte';
export type { SyncStatus, SyncedDocOptions } from './synced-doc.svelte';
export { docPool } from './doc-pool.svelte';
export { clearCachedDocs, hasCachedConversation, hasCachedDocs } from './cache';
export { refusedStore, type RefusedRecord } from './local-changes';
export { dropSnapshot, keepSnapshotsOf } from './snapshot-index';
