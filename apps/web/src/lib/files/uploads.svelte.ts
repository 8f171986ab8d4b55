/**
 * Files picked for a message that has not been sent yet: each uploads at once (`POST /api/uploads`)
 * through XMLHttpRequest, whose upload events give a progress bar that fetch cannot. The message
 * is written with the finished uploads' records as its `attachments` (guard rule OWN10).
 */
import type { Attachment, VoiceInfo } from '@circlechat/model';

/** The server takes at most this many attachments on one message. */
export const MAX_ATTACHMENTS = 20;

export interface PendingUpload {
	id: number;
	name: string;
	size: number;
	/** A local preview of an image while (and after) it uploads; revoked when it leaves. */
	preview: string | null;
	loaded: number;
	status: 'uploading' | 'done' | 'error';
	error: string | null;
	result: Attachment | null;
}

let nextId = 1;

function failure(xhr: XMLHttpRequest): string {
	try {
		const data = JSON.parse(xhr.responseText) as { message?: unknown };
		if (typeof data.message === 'string') return data.message;
	} catch {
		// not JSON: a proxy's page
	}
	return xhr.status ? `The upload failed (${xhr.status}). Try again.` : 'Cannot reach the server. Check your connection and try again.';
}

export class Uploads {
	items = $state<PendingUpload[]>([]);
	#requests = new Map<number, XMLHttpRequest>();
	/** Who waits for an upload to end (`upload`): told its attachment, or null. */
	#waiters = new Map<number, (a: Attachment | null) => void>();

	get busy(): boolean {
		return this.items.some((u) => u.status === 'uploading');
	}
	get attachments(): Attachment[] {
		return this.items.flatMap((u) => (u.status === 'done' && u.result ? [u.result] : []));
	}

	/** Starts uploading each file; past the per-message limit the rest are refused with a message. */
	add(files: Iterable<File>) {
		for (const file of files) {
			const id = nextId++;
			const preview = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
			const full = this.items.length >= MAX_ATTACHMENTS;
			this.items.push({
				id,
				name: file.name || 'pasted-file',
				size: file.size,
				preview,
				loaded: 0,
				status: full ? 'error' : 'uploading',
				error: full ? `A message takes at most ${MAX_ATTACHMENTS} files.` : null,
				result: null
			});
			if (!full) this.#send(id, file);
		}
	}

	/** A recorded voice message: uploaded with its waveform (services/voice.ts on the server). */
	addVoice(file: File, voice: VoiceInfo): number {
		const id = nextId++;
		this.items.push({ id, name: file.name, size: file.size, preview: null, loaded: 0, status: 'uploading', error: null, result: null });
		this.#send(id, file, voice);
		return id;
	}

	#update(id: number, patch: Partial<PendingUpload>) {
		const item = this.items.find((u) => u.id === id);
		if (item) Object.assign(item, patch);
		if (patch.status === 'done' || patch.status === 'error') this.#settle(id, patch.result ?? null);
	}

	#settle(id: number, result: Attachment | null) {
		this.#waiters.get(id)?.(result);
		this.#waiters.delete(id);
	}

	#send(id: number, file: File, voice?: VoiceInfo) {
		const xhr = new XMLHttpRequest();
		this.#requests.set(id, xhr);
		xhr.upload.onprogress = (e) => this.#update(id, { loaded: e.loaded });
		xhr.onload = () => {
			this.#requests.delete(id);
			if (xhr.status === 201) {
				this.#update(id, { status: 'done', loaded: file.size, result: JSON.parse(xhr.responseText) as Attachment });
			} else this.#update(id, { status: 'error', error: failure(xhr) });
		};
		xhr.onerror = () => {
			this.#requests.delete(id);
			this.#update(id, { status: 'error', error: failure(xhr) });
		};
		const form = new FormData();
		if (voice) form.append('voice', JSON.stringify(voice));
		form.append('file', file, file.name || 'pasted-file');
		xhr.open('POST', '/api/uploads');
		xhr.send(form);
	}

	/**
	 * Uploads one file as `add` does (its chip shows progress), resolving with its attachment once
	 * stored, or null if it was refused or cancelled (the chip says why).
	 */
	upload(file: File): Promise<Attachment | null> {
		const id = nextId;
		this.add([file]);
		if (this.items.find((u) => u.id === id)?.status !== 'uploading') return Promise.resolve(null);
		return new Promise((resolve) => this.#waiters.set(id, resolve));
	}

	/** Cancels an upload in flight, or takes a finished one off the message. */
	remove(id: number) {
		this.#settle(id, null);
		this.#requests.get(id)?.abort();
		this.#requests.delete(id);
		const item = this.items.find((u) => u.id === id);
		if (item?.preview) URL.revokeObjectURL(item.preview);
		this.items = this.items.filter((u) => u.id !== id);
	}

	clear() {
		for (const u of [...this.items]) this.remove(u.id);
	}
}
