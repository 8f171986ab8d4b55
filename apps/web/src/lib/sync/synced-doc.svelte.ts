/**
 * One Yjs document kept in sync three ways: in memory (Y.Doc), on disk (y-indexeddb, so the app
 * opens offline) and with the relay (y-websocket on `/sync/<docName>`, the session cookie
 * authenticates). Adds what the stock provider lacks for our relay:
 *   - the outbox (./outbox.ts): each local change is kept as its own update, persisted, and sent
 *     in order after the sync exchange; message 101 (ack) removes it; drives `unsynced`.
 *   - message 100 (reject): the guard refused that change. It is set aside in IndexedDB
 *     (local-changes.ts, shown until dismissed), the local copy (memory and IndexedDB) is dropped
 *     and reopened from the server, and the rest of the outbox is replayed as new edits. `doc` is
 *     replaced: readers must follow `doc`.
 *   - close codes 4401/4403/4400/4410: reconnecting cannot help; stop and report `error`. Access
 *     gone (4403/4410, or `abandon`) sets every unsent change aside as refused.
 *   - reconnects with exponential backoff and full jitter (reconnect.ts), at once (jittered) when
 *     the browser comes back online; each reconnect is one state-vector exchange.
 *   - which docs have unsent changes is kept (local-changes.ts) so the shell reopens them all.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as decoding from 'lib0/decoding';
import { closeCode, messageType } from '@circlechat/protocol';
import { parseDocName } from '@circlechat/model';
import { rememberCachedDoc } from './cache';
import { bindOutbox, indexedDbOutboxStore, Outbox, replayOutbox, textsOf, type RefusedChange } from './outbox';
import { refusedStore, setUnsynced } from './local-changes';
import { pendingItemIds } from './pending-items';
import { ONLINE_JITTER_MS, reconnectDelay } from './reconnect';

/** Origin of the outbox's replayed edits after a refusal: local, so they are recorded. */
const REPLAY = Symbol('replay');

export type SyncStatus = 'offline' | 'connecting' | 'handshaking' | 'synced' | 'error';

export interface SyncedDocOptions {
	/**
	 * The doc is written only by the server (`dir:`). We then never answer the server's sync
	 * step 1: y-websocket would send a step 2 even when it has nothing to add, and the relay
	 * refuses any update to a read-only doc.
	 */
	readOnly?: boolean;
	/** The relay refused an update; the doc is being reset from the server. */
	onReject?: (reason: string, detail: string, name: string) => void;
	/** The relay closed for good (not signed in, not a member, …). */
	onFatal?: (code: number, reason: string, name: string) => void;
	/**
	 * The conversation the doc belongs to, for the sidebar's "unsent" marks and refused changes.
	 * Defaults to the one a `conv:` or `board:` name carries; a `thread:` doc names it here.
	 */
	conversationId?: string | null;
	/** The count of unsent changes moved, or the doc failed for good (the doc pool's cue). */
	onUnsynced?: (count: number) => void;
	/** Connect only once this has settled (a first visit's segments wait for the `me:` doc). */
	connectAfter?: Promise<unknown>;
}

/** Closes that mean "you may not have this doc": unsent changes can never land. */
const ACCESS_GONE: Set<number> = new Set([closeCode.forbidden, closeCode.revoked]);

const fatalMessages: Record<number, string> = {
	[closeCode.unauthorized]: 'Your session has ended. Sign in again.',
	[closeCode.forbidden]: 'You do not have access to this conversation.',
	[closeCode.badDocName]: 'This address does not name a conversation.',
	[closeCode.revoked]: 'Your access to this conversation was removed.'
};

/** Which SyncedDoc holds a Y.Doc: a component handed only the doc can reach its awareness. */
const holders = new WeakMap<Y.Doc, SyncedDoc>();
export function syncedDocOf(doc: Y.Doc): SyncedDoc | undefined {
	return holders.get(doc);
}

export function syncServerUrl(): string {
	return `${location.origin.replace(/^http/, 'ws')}/sync`;
}

export class SyncedDoc {
	readonly name: string;
	readonly conversationId: string | null;
	#opts: SyncedDocOptions;
	#doc = $state.raw<Y.Doc>(new Y.Doc());
	#status = $state<SyncStatus>('connecting');
	#error = $state<string | null>(null);
	#loaded = $state(false);
	#synced = $state(false);
	#unsynced = $state(0);
	#provider: WebsocketProvider | null = null;
	#idb: IndexeddbPersistence | null = null;
	#destroyed = false;
	#outbox: Outbox | null = null;
	#unbind: (() => void) | null = null;
	#pending = $state.raw<ReadonlySet<string>>(new Set());
	#pendingQueued = false;
	#attempt = 0;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#onOnline = () => this.#reconnectSoon(Math.random() * ONLINE_JITTER_MS);
	/** Set while reopening after a refusal: what to replay once the server's state is in. */
	#replay: { refused: Uint8Array | null; remaining: Uint8Array[] } | null = null;

	#rejects: number[] = [];
	/** Settles on the first sync with the server since this doc was created. */
	readonly firstSync: Promise<void>;
	#firstSynced: () => void = () => {};

	constructor(name: string, opts: SyncedDocOptions = {}) {
		this.name = name;
		this.#opts = opts;
		this.firstSync = new Promise((resolve) => (this.#firstSynced = resolve));
		const parsed = parseDocName(name);
		this.conversationId =
			opts.conversationId !== undefined ? opts.conversationId : parsed?.kind === 'conv' || parsed?.kind === 'board' ? parsed.conversationId : null;
		if (!opts.readOnly) {
			this.#outbox = new Outbox(indexedDbOutboxStore(name));
			this.#outbox.onChange = () => {
				const n = this.#outbox?.pending ?? 0;
				this.#unsynced = n;
				setUnsynced(name, this.conversationId, n);
				this.#queuePending();
				this.#opts.onUnsynced?.(n);
			};
		}
		if (typeof window !== 'undefined') window.addEventListener('online', this.#onOnline);
		this.#open();
	}

	/** Ids of the items (messages, tasks…) unsent changes touch: each shows "Sending…". */
	get pending(): ReadonlySet<string> {
		return this.#pending;
	}

	#queuePending() {
		if (this.#pendingQueued) return;
		this.#pendingQueued = true;
		queueMicrotask(() => {
			this.#pendingQueued = false;
			const entries = this.#outbox?.entries ?? [];
			if (entries.length === 0 && this.#pending.size === 0) return;
			this.#pending = pendingItemIds(this.#doc, entries.map((e) => e.update));
		});
	}

	/** The current Y.Doc. Replaced on reset: read it inside an effect, never cache it. */
	get doc(): Y.Doc {
		return this.#doc;
	}
	get status(): SyncStatus {
		return this.#status;
	}
	get error(): string | null {
		return this.#error;
	}
	/** Local cache loaded or server synced: there is something to show. */
	get loaded(): boolean {
		return this.#loaded;
	}
	/** The server's state has been received at least once since (re)opening. */
	get synced(): boolean {
		return this.#synced;
	}
	/** Local changes not yet durable on the server. */
	get unsynced(): number {
		return this.#unsynced;
	}
	/** The outbox is loaded: `unsynced` counts what this browser kept from earlier sessions. */
	get ready(): Promise<void> {
		return this.#outbox?.ready ?? Promise.resolve();
	}
	/**
	 * Presence on this doc (the server publishes e.g. `{thinking: [memberId…]}` here). Belongs to
	 * the current connection and is replaced with `doc` on reset: read it in an effect that also
	 * reads `doc`.
	 */
	get awareness(): WebsocketProvider['awareness'] | null {
		void this.#doc;
		return this.#provider?.awareness ?? null;
	}

	#open() {
		const doc = new Y.Doc();
		this.#doc = doc;
		holders.set(doc, this);
		this.#loaded = false;
		this.#synced = false;
		this.#error = null;
		this.#unsynced = this.#outbox?.pending ?? 0;
		const cachedBefore = rememberCachedDoc(this.name);

		const idb = new IndexeddbPersistence(this.name, doc);
		this.#idb = idb;
		// A doc this browser never held has nothing in IndexedDB to show: loaded once synced.
		void idb.whenSynced.then(() => {
			if (this.#idb === idb && cachedBefore) this.#loaded = true;
		});

		const provider = new WebsocketProvider(syncServerUrl(), this.name, doc, {
			disableBc: true,
			maxBackoffTime: 5000,
			// Connect once the local copy and the outbox are loaded (below).
			connect: false,
			// Never y-websocket's own retry (200 ms doubling, no jitter: every doc of every client
			// would come back in lockstep after a restart); #retry schedules it. 4429 (rate limited)
			// is worth retrying; the rest of 44xx is a decision, not a hiccup.
			shouldReconnect: (event) => {
				if (event.code === closeCode.rateLimited || !(event.code >= 4400 && event.code < 4500)) this.#retry(provider);
				return false;
			}
		});
		this.#provider = provider;
		this.#status = navigator.onLine ? 'connecting' : 'offline';
		// A doc this browser never held has nothing local to trim the server's answer by: it
		// connects at once (end of #open) instead of after opening its IndexedDB, ~100 ms on a
		// first visit. The outbox waits for its own load before sending anything either way.
		const connect = () => {
			if (this.#provider === provider) provider.connect();
		};
		if (cachedBefore) {
			const localLoaded = Promise.race([idb.whenSynced, new Promise((r) => setTimeout(r, 2000))]);
			void Promise.all([localLoaded, this.#outbox?.ready, this.#opts.connectAfter]).then(connect);
		}

		const onReject = (change: RefusedChange | null, reason: string, detail: string) => {
			if (this.#provider !== provider) return;
			if (change) void refusedStore.add(this.name, this.conversationId, [change]);
			this.#opts.onReject?.(reason, detail, this.name);
			// A doc refused again and again would reset in a tight loop: stop and say so.
			const now = Date.now();
			this.#rejects = [...this.#rejects.filter((t) => now - t < 30_000), now];
			if (this.#rejects.length > 3) {
				this.#fail('The server keeps refusing changes to this conversation. Reload the page.');
				provider.disconnect();
				return;
			}
			// Not from inside the provider's message loop: reset tears the provider down.
			setTimeout(() => void this.#reopenAndReplay(change), 0);
		};
		if (this.#outbox) {
			this.#unbind = bindOutbox(this.#outbox, provider, { isRemote: (origin) => origin === idb, onReject });
		} else {
			// Read-only (`dir:`): never answer the server's step 1; a reject still resets.
			const baseSync = provider.messageHandlers[messageType.sync]!;
			provider.messageHandlers[messageType.sync] = (encoder, decoder, p, emitSynced, type) => {
				if (decoding.peekVarUint(decoder) === 0) return;
				baseSync(encoder, decoder, p, emitSynced, type);
			};
			provider.messageHandlers[messageType.reject] = (_encoder, decoder) => {
				const reason = decoding.readVarString(decoder);
				onReject(null, reason, decoding.hasContent(decoder) ? decoding.readVarString(decoder) : '');
			};
			provider.messageHandlers[messageType.ack] = () => {};
		}

		provider.on('status', ({ status }) => {
			if (this.#provider !== provider) return;
			if (status === 'connecting') this.#status = navigator.onLine ? 'connecting' : 'offline';
			else if (status === 'connected') this.#status = 'handshaking';
			else this.#status = 'offline';
		});
		provider.on('sync', (isSynced) => {
			if (this.#provider !== provider) return;
			if (isSynced) {
				this.#attempt = 0;
				this.#status = 'synced';
				this.#synced = true;
				this.#loaded = true;
				this.#firstSynced();
				const replay = this.#replay;
				this.#replay = null;
				if (replay) replayOutbox(doc, replay.refused, replay.remaining, REPLAY);
			}
		});
		provider.on('closed', ({ code, reason }) => {
			if (this.#provider !== provider || this.#retryTimer !== null) return;
			this.#fail(fatalMessages[code] ?? (reason || `The server closed the connection (${code}).`));
			if (ACCESS_GONE.has(code)) void this.abandon('notMember', this.#error ?? '');
			this.#opts.onFatal?.(code, this.#error ?? '', this.name);
			this.#opts.onUnsynced?.(this.#unsynced);
		});
		if (!cachedBefore) {
			if (this.#opts.connectAfter) void this.#opts.connectAfter.then(connect);
			else provider.connect();
		}
	}

	/** Schedules the next attempt after a dropped or failed connection. */
	#retry(provider: WebsocketProvider) {
		if (this.#provider !== provider) return;
		this.#status = navigator.onLine ? 'connecting' : 'offline';
		this.#reconnectSoon(reconnectDelay(this.#attempt++));
	}

	#reconnectSoon(delay: number) {
		const provider = this.#provider;
		if (!provider || this.#destroyed || this.#status === 'error' || provider.wsconnected) return;
		if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			if (this.#provider === provider && !this.#destroyed) provider.connect();
		}, delay);
	}

	/**
	 * Access is gone (removed from the conversation, 4403/4410): every unsent change is set aside
	 * as refused with `reason` — kept in IndexedDB with its text until dismissed — and the outbox
	 * is emptied, since none of it can ever land.
	 */
	async abandon(reason: string, detail: string) {
		const outbox = this.#outbox;
		if (!outbox) return;
		await outbox.ready;
		const entries = [...outbox.entries];
		if (entries.length === 0) return;
		const at = Date.now();
		await refusedStore.add(
			this.name,
			this.conversationId,
			entries.map((e): RefusedChange => ({ seq: e.seq, update: e.update, reason, detail, at, texts: textsOf(e.update) }))
		);
		outbox.clear();

	}

	#fail(message: string) {
		this.#status = 'error';
		this.#error = message;
	}

	/**
	 * After a refusal: the refused change is already out of the outbox; the rest is taken out
	 * too and re-done as new edits on the doc reopened from the server (outbox.ts, replayOutbox),
	 * where the new outbox entries record them.
	 */
	async #reopenAndReplay(change: RefusedChange | null) {
		if (this.#destroyed) return;
		const outbox = this.#outbox;
		if (outbox) {
			this.#replay = { refused: change?.update ?? null, remaining: outbox.entries.map((e) => e.update) };
			outbox.clear();
		}
		await this.reset();
	}

	/** Drops the local copy (memory and IndexedDB) and reopens the doc from the server. */
	async reset() {
		if (this.#destroyed) return;
		const idb = this.#teardown();
		await idb?.clearData();
		if (!this.#destroyed) this.#open();
	}

	/** Reconnects after a fatal close (e.g. once signed in again). */
	retry() {
		if (this.#status === 'error') this.#provider?.connect();
	}

	#teardown(): IndexeddbPersistence | null {
		this.#unbind?.();
		this.#unbind = null;
		const provider = this.#provider;
		const idb = this.#idb;
		const doc = this.#doc;
		this.#provider = null;
		this.#idb = null;
		provider?.destroy();
		void idb?.destroy();
		doc.destroy();
		return idb;
	}

	destroy() {
		this.#destroyed = true;
		if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
		this.#retryTimer = null;
		if (typeof window !== 'undefined') window.removeEventListener('online', this.#onOnline);
		this.#teardown();
	}
}
