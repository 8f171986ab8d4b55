/**
 * The outbox: every local change to a doc, kept as its own Yjs update (one per local
 * transaction) until the relay acknowledges it (message 101). Plain TypeScript (no runes) so the
 * relay's Node tests and bench drive the very same logic as the web app (docs/sync.md, "The
 * outbox").
 *
 *   - Persisted (IndexedDB `<docName>:outbox` in the browser), so it survives a reload.
 *   - Sent only after the sync exchange finished (the server's step 2 applied), in order, one at
 *     a time: each answer (ack or reject) then belongs to exactly that update. Our own answer to
 *     the server's step 1 is empty: the backlog never travels as one big step 2.
 *   - Before sending, each update is trimmed to what the server lacks (its step-1 state vector):
 *     an update that landed on a connection that died before its ack is not sent twice.
 *   - A refused update is set aside with its reason; the rest is replayed by the caller as new
 *     edits on a doc reopened from the server (`replayOutbox`), so nothing waits behind a
 *     clock gap.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import type { WebsocketProvider } from 'y-websocket';
import { messageType } from '@circlechat/protocol';
import { findMessage, memberWritableMeKeys, messagesOf, REACTIONS } from '@circlechat/model';

export interface OutboxEntry {
	seq: number;
	update: Uint8Array;
}

/** A local change the relay refused: kept so the UI can show what was lost and why. */
export interface RefusedChange {
	seq: number;
	update: Uint8Array;
	reason: string;
	detail: string;
	at: number;
	/** Message bodies written by the change, when it wrote any. */
	texts: string[];
}

export interface OutboxStore {
	load(): Promise<OutboxEntry[]>;
	add(entry: OutboxEntry): Promise<void>;
	remove(seqs: number[]): Promise<void>;
}

/**
 * Updates in flight at once. The relay answers each update in order (an ack, or a refusal sent
 * after the acks before it), so the first refusal is for the oldest update in flight.
 */
export const OUTBOX_WINDOW = 16;

export function memoryOutboxStore(initial: OutboxEntry[] = []): OutboxStore & { entries: OutboxEntry[] } {
	const s = {
		entries: [...initial],
		load: async () => [...s.entries],
		add: async (e: OutboxEntry) => void s.entries.push(e),
		remove: async (seqs: number[]) => {
			const gone = new Set(seqs);
			s.entries = s.entries.filter((e) => !gone.has(e.seq));
		}
	};
	return s;
}

export const outboxDbName = (docName: string) => `${docName}:outbox`;

/** One IndexedDB database per doc (like y-indexeddb), one object store keyed by `seq`. */
export function indexedDbOutboxStore(docName: string): OutboxStore {
	let opened: Promise<IDBDatabase> | null = null;
	const db = () =>
		(opened ??= new Promise<IDBDatabase>((resolve, reject) => {
			const req = indexedDB.open(outboxDbName(docName), 1);
			req.onupgradeneeded = () => req.result.createObjectStore('entries', { keyPath: 'seq' });
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		}));
	const tx = async (mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest | void) => {
		const d = await db();
		return new Promise<unknown>((resolve, reject) => {
			const t = d.transaction('entries', mode);
			const req = fn(t.objectStore('entries'));
			t.oncomplete = () => resolve(req ? req.result : undefined);
			t.onerror = t.onabort = () => reject(t.error);
		});
	};
	return {
		load: async () => ((await tx('readonly', (s) => s.getAll())) as OutboxEntry[]).sort((a, b) => a.seq - b.seq),
		add: async (e) => void (await tx('readwrite', (s) => void s.put(e))),
		remove: async (seqs) => void (await tx('readwrite', (s) => void seqs.forEach((q) => s.delete(q))))
	};
}

const hasEffect = (update: Uint8Array) => {
	const { structs, ds } = Y.decodeUpdate(update);
	return structs.length > 0 || ds.clients.size > 0;
};

export class Outbox {
	readonly ready: Promise<void>;
	/** Called whenever `pending` changes. */
	onChange: () => void = () => {};
	#store: OutboxStore;
	#entries: OutboxEntry[] = [];
	#lastSeq = 0;
	// Per connection:
	#send: ((update: Uint8Array) => void) | null = null;
	#serverSv: Uint8Array | null = null;
	#flushing = false;
	#inflight: OutboxEntry[] = [];
	#acked = 0;
	/** Sending an entry trimmed to what the server lacks (entries that existed at sync time). */
	#trimmed = new Map<number, Uint8Array>();

	constructor(store: OutboxStore) {
		this.#store = store;
		this.ready = store.load().then((loaded) => {
			this.#entries = [...loaded, ...this.#entries].sort((a, b) => a.seq - b.seq);
			this.#lastSeq = Math.max(this.#lastSeq, ...this.#entries.map((e) => e.seq));
			this.onChange();
			this.#pump();
		});
	}

	/** Local changes not yet acknowledged. */
	get pending(): number {
		return this.#entries.length;
	}
	get entries(): readonly OutboxEntry[] {
		return this.#entries;
	}

	/** A local transaction's update. */
	record(update: Uint8Array) {
		// Time-based so seqs stay increasing across reloads without waiting for the load; the random
		// sub-millisecond part keeps two tabs writing the same doc in the same millisecond from
		// overwriting each other's entry in the shared store.
		const now = Date.now() * 1000 + Math.floor(Math.random() * 1000);
		const entry = { seq: (this.#lastSeq = Math.max(now, this.#lastSeq + 1)), update };
		this.#entries.push(entry);
		void this.#store.add(entry);
		this.onChange();
		this.#pump();
	}

	/** A socket opened: nothing is in flight on it yet. */
	connected(send: (update: Uint8Array) => void) {
		this.#send = send;
		this.#serverSv = null;
		this.#flushing = false;
		this.#inflight = [];
		this.#acked = 0;
		this.#trimmed.clear();
	}

	disconnected() {
		this.#send = null;
		this.#flushing = false;
		this.#inflight = [];
	}

	/** The server's sync step 1: its state vector, to trim what it already has. */
	serverStateVector(sv: Uint8Array) {
		this.#serverSv = sv;
	}

	/** The server's step 2 is applied: send the backlog. */
	synced() {
		if (!this.#send || this.#flushing) return;
		void this.ready.then(() => {
			if (!this.#send) return;
			const sv = this.#serverSv;
			if (sv) {
				const landed: number[] = [];
				for (const e of this.#entries) {
					const rest = Y.diffUpdate(e.update, sv);
					if (hasEffect(rest)) this.#trimmed.set(e.seq, rest);
					else landed.push(e.seq);
				}
				this.#drop(landed);
			}
			this.#flushing = true;
			this.#pump();
		});
	}

	/** Message 101: `total` updates of this connection are durable. */
	ack(total: number) {
		if (!this.#send) return;
		const n = total - this.#acked;
		this.#acked = total;
		const done = this.#inflight.splice(0, Math.max(0, n));
		this.#drop(done.map((e) => e.seq));
		this.#pump();
	}

	/**
	 * Message 100: the oldest update in flight was refused. Removes and returns it; stops sending
	 * on this connection (later answers on it are ignored: the caller reopens the doc).
	 */
	refused(reason: string, detail: string): RefusedChange | null {
		const head = this.#inflight[0];
		this.#send = null;
		this.#flushing = false;
		this.#inflight = [];
		if (!head) return null;
		this.#drop([head.seq]);
		return { seq: head.seq, update: head.update, reason, detail, at: Date.now(), texts: textsOf(head.update) };
	}

	/** Drops every entry (they are being replayed as new ones). */
	clear() {
		this.#drop(this.#entries.map((e) => e.seq));
	}

	#drop(seqs: number[]) {
		if (seqs.length === 0) return;
		const gone = new Set(seqs);
		this.#entries = this.#entries.filter((e) => !gone.has(e.seq));
		for (const q of seqs) this.#trimmed.delete(q);
		void this.#store.remove(seqs);
		this.onChange();
	}

	#pump() {
		if (!this.#flushing || !this.#send) return;
		while (this.#inflight.length < OUTBOX_WINDOW) {
			const next = this.#entries.find((e) => !this.#inflight.includes(e));
			if (!next) return;
			this.#inflight.push(next);
			this.#send(this.#trimmed.get(next.seq) ?? next.update);
		}
	}
}

/** Message bodies an update writes (new messages and edits), for showing a refused change. */
export function textsOf(update: Uint8Array): string[] {
	const texts: string[] = [];
	try {
		for (const s of Y.decodeUpdate(update).structs) {
			// A map value carries its key only when it has no origin; an edit's body follows the old
			// value (its origin), so a string set with an origin is read as a body too.
			if (s instanceof Y.Item && (s.parentSub === 'body' || (s.parentSub === null && s.origin !== null)) && s.content instanceof Y.ContentAny) {
				const body = s.content.getContent()[0];
				if (typeof body === 'string' && body) texts.push(body);
			}
		}
	} catch {
		// Undecodable: nothing to show.
	}
	return texts;
}

/** Refusals that say "not now" rather than "never": the outbox keeps the change and retries. */
const RETRY_LATER = new Set(['rateLimited', 'storageFailure']);
const RETRY_AFTER_MS = 5000;

export interface BindOutboxOptions {
	/** Origins of changes that are not ours to send (the provider's are always excluded). */
	isRemote?: (origin: unknown) => boolean;
	onReject?: (change: RefusedChange | null, reason: string, detail: string) => void;
}

/**
 * Routes a provider's doc traffic through the outbox: local updates are recorded instead of
 * broadcast, our sync step 2 is empty, the backlog goes out after the server's step 2, and
 * 100/101 drive it. Returns the unbind function.
 */
export function bindOutbox(outbox: Outbox, provider: WebsocketProvider, opts: BindOutboxOptions = {}): () => void {
	const doc = provider.doc;
	const p = provider as unknown as { _updateHandler: (u: Uint8Array, origin: unknown) => void; ws: WebSocket | null };
	doc.off('update', p._updateHandler);
	const send = (update: Uint8Array) => {
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, messageType.sync);
		encoding.writeVarUint(e, 2); // y-protocols messageYjsUpdate
		encoding.writeVarUint8Array(e, update);
		const ws = p.ws;
		if (provider.wsconnected && ws && ws.readyState === 1) ws.send(encoding.toUint8Array(e));
	};
	const onUpdate = (update: Uint8Array, origin: unknown) => {
		if (origin === provider || opts.isRemote?.(origin)) return;
		outbox.record(update);
	};
	doc.on('update', onUpdate);

	const baseSync = provider.messageHandlers[messageType.sync]!;
	provider.messageHandlers[messageType.sync] = (encoder, decoder, prov, emitSynced, type) => {
		const peek = decoding.clone(decoder);
		if (decoding.readVarUint(peek) === 0) {
			// The server's step 1. y-websocket would answer with everything we hold that the server
			// lacks, in one update; the outbox sends it instead, change by change.
			outbox.serverStateVector(decoding.readVarUint8Array(peek));
			return;
		}
		baseSync(encoder, decoder, prov, emitSynced, type);
	};
	let refusedHere = false;
	provider.messageHandlers[messageType.reject] = (_e, decoder) => {
		// The first refusal ends this doc's life; the answers to the rest of the window are moot.
		if (refusedHere) return;
		refusedHere = true;
		const reason = decoding.readVarString(decoder);
		const detail = decoding.hasContent(decoder) ? decoding.readVarString(decoder) : '';
		opts.onReject?.(outbox.refused(reason, detail), reason, detail);
	};
	provider.messageHandlers[messageType.ack] = (_e, decoder) => outbox.ack(decoding.readVarUint(decoder));
	const original = provider.messageHandlers[messageType.reject]!;
	provider.messageHandlers[messageType.reject] = (e, decoder, prov, emitSynced, type) => {
		const peek = decoding.clone(decoder);
		if (refusedHere || !RETRY_LATER.has(decoding.readVarString(peek))) return original(e, decoder, prov, emitSynced, type);
		// Not a verdict on the change: keep the whole outbox and try again on a new connection.
		refusedHere = true;
		outbox.disconnected();
		provider.disconnect();
		setTimeout(() => {
			refusedHere = false;
			if (!destroyed) provider.connect();
		}, RETRY_AFTER_MS);
	};
	let destroyed = false;

	const onStatus = ({ status }: { status: string }) => {
		if (status === 'connected') outbox.connected(send);
		else outbox.disconnected();
	};
	const onSync = (isSynced: boolean) => {
		if (isSynced) outbox.synced();
	};
	provider.on('status', onStatus);
	provider.on('sync', onSync);
	if (provider.wsconnected) {
		outbox.connected(send);
		if (provider.synced) outbox.synced();
	}
	return () => {
		destroyed = true;
		doc.off('update', onUpdate);
		provider.off('status', onStatus);
		provider.off('sync', onSync);
		outbox.disconnected();
	};
}

/** One model-level effect of a change, re-applied on a fresh doc. */
type Op =
	| { kind: 'message'; fields: Map<string, unknown>; reactions: Map<string, unknown> }
	| { kind: 'field'; id: string; key: string; value: unknown; deleted: boolean }
	| { kind: 'reaction'; id: string; key: string; value: unknown; deleted: boolean }
	| { kind: 'me'; root: string; key: string; value: unknown; deleted: boolean };

const SERVER_FIELDS = new Set(['threadCount', 'lastReplyAt', 'card']);

/**
 * After a refusal: re-derives what each remaining change did and re-does it on `fresh` (the doc
 * reopened from the server, under a new client id), one transaction per old change, with
 * `origin` (a local origin, so the new outbox records each as a new entry).
 *
 * How: a scratch doc starts from the server's state; the refused update and then each remaining
 * one are applied to it in order, and a deep observer turns the effect of each (never the
 * refused one's) into model operations — a new message with its fields, a message field set, a
 * reaction key, a `me:` key. Operations whose effect the server already has (a change that
 * landed but whose ack was lost) are skipped. A change that depended on the refused one (an edit
 * of a refused message) has nothing to apply and is dropped with it.
 */
export function replayOutbox(fresh: Y.Doc, refused: Uint8Array | null, remaining: Uint8Array[], origin: unknown): number {
	const scratch = new Y.Doc();
	Y.applyUpdate(scratch, Y.encodeStateAsUpdate(fresh));
	let ops: Op[] = [];
	const messages = messagesOf(scratch);
	messages.observeDeep((events) => {
		for (const ev of events) {
			const t = ev.target;
			if (t === messages) {
				for (const item of ev.changes.added) {
					for (const m of item.content.getContent()) {
						if (!(m instanceof Y.Map)) continue;
						const fields = new Map<string, unknown>();
						let reactions = new Map<string, unknown>();
						for (const [k, v] of m.entries()) {
							if (k === REACTIONS && v instanceof Y.Map) reactions = new Map(v.entries());
							else if (!SERVER_FIELDS.has(k)) fields.set(k, v);
						}
						ops.push({ kind: 'message', fields, reactions });
					}
				}
			} else if (t instanceof Y.Map && t.parent === messages) {
				for (const [key, change] of ev.changes.keys) {
					if (SERVER_FIELDS.has(key) || key === REACTIONS) continue;
					ops.push({ kind: 'field', id: String(t.get('id')), key, value: t.get(key), deleted: change.action === 'delete' });
				}
			} else if (t instanceof Y.Map && t.parent instanceof Y.Map && t.parent.parent === messages) {
				for (const [key, change] of ev.changes.keys) {
					ops.push({ kind: 'reaction', id: String(t.parent.get('id')), key, value: t.get(key), deleted: change.action === 'delete' });
				}
			}
		}
	});
	for (const root of memberWritableMeKeys) {
		const map = scratch.getMap<unknown>(root);
		map.observe((ev) => {
			for (const [key, change] of ev.changes.keys) ops.push({ kind: 'me', root, key, value: map.get(key), deleted: change.action === 'delete' });
		});
	}
	if (refused) {
		Y.applyUpdate(scratch, refused);
		ops = [];
	}
	let replayed = 0;
	for (const update of remaining) {
		ops = [];
		Y.applyUpdate(scratch, update);
		const todo = ops;
		if (todo.length === 0) continue;
		let changed = false;
		fresh.transact(() => {
			for (const op of todo) changed = applyOp(fresh, op) || changed;
		}, origin);
		if (changed) replayed++;
	}
	scratch.destroy();
	return replayed;
}

function applyOp(doc: Y.Doc, op: Op): boolean {
	const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
	if (op.kind === 'me') {
		const map = doc.getMap<unknown>(op.root);
		if (op.deleted ? !map.has(op.key) : same(map.get(op.key), op.value)) return false;
		if (op.deleted) map.delete(op.key);
		else map.set(op.key, op.value);
		return true;
	}
	if (op.kind === 'message') {
		const id = op.fields.get('id');
		if (typeof id !== 'string' || findMessage(doc, id)) return false;
		const m = new Y.Map<unknown>();
		for (const [k, v] of op.fields) m.set(k, v);
		const reactions = new Y.Map<unknown>();
		for (const [k, v] of op.reactions) reactions.set(k, v);
		m.set(REACTIONS, reactions);
		messagesOf(doc).push([m]);
		return true;
	}
	const m = findMessage(doc, op.id);
	if (!m) return false;
	const target = op.kind === 'field' ? m : m.get(REACTIONS);
	if (!(target instanceof Y.Map)) return false;
	if (op.deleted ? !target.has(op.key) : same(target.get(op.key), op.value)) return false;
	if (op.deleted) target.delete(op.key);
	else target.set(op.key, op.value);
	return true;
}
