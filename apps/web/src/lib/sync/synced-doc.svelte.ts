/**
 * One Yjs document kept in sync three ways: in memory (Y.Doc), on disk (y-indexeddb, so the app
 * opens offline) and with the relay (y-websocket on `/sync/<docName>`, the session cookie
 * authenticates). Adds what the stock provider lacks for our relay:
 *   - message 100 (reject): the guard refused our last update. The doc is now ahead of the server
 *     with changes the server will never take, so we drop the local copy (memory and IndexedDB)
 *     and reopen from the server. `doc` is replaced: readers must follow `doc`, never keep it.
 *   - message 101 (ack): how many of this connection's updates are durable; drives `unsynced`.
 *   - close codes 4401/4403/4400/4410: reconnecting cannot help; stop and report `error`.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as decoding from 'lib0/decoding';
import { closeCode, messageType } from '@circlechat/protocol';
import { rememberCachedDoc } from './cache';

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
}

const fatalMessages: Record<number, string> = {
	[closeCode.unauthorized]: 'Your session has ended. Sign in again.',
	[closeCode.forbidden]: 'You do not have access to this conversation.',
	[closeCode.badDocName]: 'This address does not name a conversation.',
	[closeCode.revoked]: 'Your access to this conversation was removed.'
};

export function syncServerUrl(): string {
	return `${location.origin.replace(/^http/, 'ws')}/sync`;
}

export class SyncedDoc {
	readonly name: string;
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
	// Unsynced bookkeeping. A local change is queued while disconnected, or in flight once sent;
	// each in-flight entry is one update message, acknowledged in order by message 101.
	#queued = 0;
	#carry = 0;
	#inflight: number[] = [];
	#acked = 0;

	#rejects: number[] = [];

	constructor(name: string, opts: SyncedDocOptions = {}) {
		this.name = name;
		this.#opts = opts;
		this.#open();
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
	/**
	 * Presence on this doc (the server publishes e.g. `{thinking: [memberId…]}` here). Belongs to
	 * the current connection and is replaced with `doc` on reset: read it in an effect that also
	 * reads `doc`.
	 */
	get awareness(): WebsocketProvider['awareness'] | null {
		void this.#doc;
		return this.#provider?.awareness ?? null;
	}

	#count() {
		this.#unsynced = this.#queued + this.#carry + this.#inflight.reduce((a, b) => a + b, 0);
	}

	#open() {
		const doc = new Y.Doc();
		this.#doc = doc;
		this.#loaded = false;
		this.#synced = false;
		this.#error = null;
		this.#queued = this.#carry = this.#acked = 0;
		this.#inflight = [];
		this.#count();
		rememberCachedDoc(this.name);

		const idb = new IndexeddbPersistence(this.name, doc);
		this.#idb = idb;
		void idb.whenSynced.then(() => {
			if (this.#idb === idb) this.#loaded = true;
		});

		const provider = new WebsocketProvider(syncServerUrl(), this.name, doc, {
			disableBc: true,
			maxBackoffTime: 5000,
			// 4429 (rate limited) is worth retrying; the rest of 44xx is a decision, not a hiccup.
			shouldReconnect: (event) => event.code === closeCode.rateLimited || !(event.code >= 4400 && event.code < 4500)
		});
		this.#provider = provider;
		this.#status = navigator.onLine ? 'connecting' : 'offline';

		const baseSync = provider.messageHandlers[messageType.sync]!;
		provider.messageHandlers[messageType.sync] = (encoder, decoder, p, emitSynced, type) => {
			if (this.#opts.readOnly && decoding.peekVarUint(decoder) === 0) return;
			this.#peekServerStep1(decoder, doc);
			baseSync(encoder, decoder, p, emitSynced, type);
		};
		provider.messageHandlers[messageType.reject] = (_encoder, decoder) => {
			const reason = decoding.readVarString(decoder);
			const detail = decoding.hasContent(decoder) ? decoding.readVarString(decoder) : '';
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
			setTimeout(() => void this.reset(), 0);
		};
		provider.messageHandlers[messageType.ack] = (_encoder, decoder) => {
			this.#onAck(decoding.readVarUint(decoder));
		};

		provider.on('status', ({ status }) => {
			if (this.#provider !== provider) return;
			if (status === 'connecting') this.#status = navigator.onLine ? 'connecting' : 'offline';
			else if (status === 'connected') {
				this.#status = 'handshaking';
				this.#startConnection();
			} else this.#status = 'offline';
		});
		provider.on('sync', (isSynced) => {
			if (this.#provider !== provider) return;
			if (isSynced) {
				this.#status = 'synced';
				this.#synced = true;
				this.#loaded = true;
			}
		});
		provider.on('closed', ({ code, reason }) => {
			if (this.#provider !== provider) return;
			this.#fail(fatalMessages[code] ?? (reason || `The server closed the connection (${code}).`));
			this.#opts.onFatal?.(code, this.#error ?? '', this.name);
		});

		doc.on('update', (_update: Uint8Array, origin: unknown) => {
			if (origin === provider || origin === idb || this.#doc !== doc) return;
			if (provider.wsconnected) this.#inflight.push(1);
			else this.#queued++;
			this.#count();
		});
	}

	#fail(message: string) {
		this.#status = 'error';
		this.#error = message;
	}

	/** A new connection: everything not acknowledged on the last one goes out in sync step 2. */
	#startConnection() {
		this.#carry += this.#queued + this.#inflight.reduce((a, b) => a + b, 0);
		this.#queued = 0;
		this.#inflight = [];
		this.#acked = 0;
		this.#count();
	}

	/**
	 * The server's sync step 1 carries its state vector. If we hold nothing it lacks, our step 2
	 * is empty and will never be acknowledged, so the carried changes are already durable.
	 */
	#peekServerStep1(decoder: decoding.Decoder, doc: Y.Doc) {
		if (this.#carry === 0) return;
		try {
			const peek = decoding.clone(decoder);
			if (decoding.readVarUint(peek) !== 0) return;
			const stateVector = decoding.readVarUint8Array(peek);
			const { structs } = Y.decodeUpdate(Y.encodeStateAsUpdate(doc, stateVector));
			if (structs.length > 0) this.#inflight.push(this.#carry);
			this.#carry = 0;
			this.#count();
		} catch {
			// Not decodable here; the stock handler reports it.
		}
	}

	#onAck(total: number) {
		let n = total - this.#acked;
		this.#acked = total;
		while (n-- > 0 && this.#inflight.length > 0) this.#inflight.shift();
		this.#count();
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
		this.#teardown();
	}
}
