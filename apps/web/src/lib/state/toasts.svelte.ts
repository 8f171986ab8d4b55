/** Short notices in a corner: guard rejections, failed actions, confirmations. */
export type ToastKind = 'info' | 'error' | 'success';

export interface Toast {
	id: number;
	kind: ToastKind;
	text: string;
}

class Toasts {
	#items = $state<Toast[]>([]);
	#next = 1;

	get items(): readonly Toast[] {
		return this.#items;
	}

	show(text: string, kind: ToastKind = 'info', ms = 5000) {
		// The same notice twice in a row (e.g. from two docs) is shown once.
		const same = this.#items.find((t) => t.text === text && t.kind === kind);
		if (same) return same.id;
		const id = this.#next++;
		this.#items.push({ id, kind, text });
		if (ms > 0) setTimeout(() => this.dismiss(id), ms);
		return id;
	}

	error(text: string) {
		return this.show(text, 'error', 8000);
	}

	success(text: string) {
		return this.show(text, 'success', 4000);
	}

	dismiss(id: number) {
		this.#items = this.#items.filter((t) => t.id !== id);
	}

	reset() {
		this.#items = [];
	}
}

/** Browser-only app: one toast stack per tab. */
export const toasts = new Toasts();

/**
 * What a guard rejection means, in words a person can act on. The change itself is kept in the
 * notice at the top of the page (with the server's technical `detail` as its tooltip).
 */
export function describeRejection(reason: string): string {
	return `A change was not accepted: ${rejectionReason(reason)}. It is kept at the top of the page until you dismiss it.`;
}

/** Why the guard refused a change, in words (its reason codes, docs/sync.md). */
export function rejectionReason(reason: string): string {
	const why: Record<string, string> = {
		notMember: 'you are no longer a member of this conversation',
		readOnly: 'this is read-only',
		notAuthor: 'you can only change your own messages',
		serverOnlyField: 'that field is managed by the server',
		immutableField: 'that field cannot be changed',
		invalidField: 'the change was not valid',
		foreignClient: 'the change came from another session',
		unresolvable: 'the change could not be matched to a message',
		tooLarge: 'the change is too large',
		rateLimited: 'you are sending too fast; wait a moment',
		malformed: 'the change was unreadable',
		sealed: 'it was written into an older part of the conversation that has since closed'
	};
	return why[reason] ?? reason;
}
