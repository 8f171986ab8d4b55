/**
 * Typing indicators through Yjs awareness on a conversation's live segment (or a thread doc).
 * Each client publishes `{memberId, typing}`; the server's own state there (`{thinking: […]}`,
 * agents at work) sits beside it and is read by ThinkingRow. Awareness is relayed, never stored.
 */
import type { SyncedDoc } from '$lib/sync';

/** Typing stops showing this long after the last keystroke (Slack uses a few seconds too). */
export const TYPING_IDLE_MS = 4000;

type Awareness = NonNullable<SyncedDoc['awareness']>;

export class TypingSignal {
	#awareness: Awareness | null = null;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#typing = false;

	/** `synced` is read inside an effect: the awareness is replaced when the doc resets. */
	constructor(synced: () => SyncedDoc, memberId: string) {
		$effect(() => {
			const awareness = synced().awareness;
			this.#awareness = awareness;
			if (!awareness) return;
			awareness.setLocalStateField('memberId', memberId);
			awareness.setLocalStateField('typing', false);
			return () => {
				this.#typing = false;
				clearTimeout(this.#timer);
			};
		});
	}

	/** A keystroke in the composer. */
	ping() {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => this.stop(), TYPING_IDLE_MS);
		if (this.#typing) return;
		this.#typing = true;
		this.#awareness?.setLocalStateField('typing', true);
	}

	/** Sent, cleared, or idle. */
	stop() {
		clearTimeout(this.#timer);
		if (!this.#typing) return;
		this.#typing = false;
		this.#awareness?.setLocalStateField('typing', false);
	}
}

/** Members typing on this awareness, other than `me`, sorted for a stable row. */
export function typersOf(awareness: Awareness, me: string): string[] {
	const ids = new Set<string>();
	for (const [client, state] of awareness.getStates()) {
		if (client === awareness.clientID) continue;
		const s = state as { memberId?: unknown; typing?: unknown };
		if (s.typing === true && typeof s.memberId === 'string' && s.memberId !== me) ids.add(s.memberId);
	}
	return [...ids].sort();
}

/** "Ada is typing…", "Ada and Bob are typing…", "Ada, Bob and 2 more are typing…". */
export function typingText(names: string[]): string {
	if (names.length === 0) return '';
	if (names.length === 1) return `${names[0]} is typing…`;
	if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
	return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more are typing…`;
}
