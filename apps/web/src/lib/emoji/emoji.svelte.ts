import { loadEmoji, type EmojiData } from './data';

/** The emoji dataset once loaded; views that need it call `ensure()` and re-render when it lands. */
class EmojiStore {
	data = $state.raw<EmojiData | null>(null);
	failed = $state(false);

	ensure() {
		if (this.data) return;
		loadEmoji().then(
			(d) => (this.data = d),
			() => (this.failed = true)
		);
	}
}

export const emojiStore = new EmojiStore();
