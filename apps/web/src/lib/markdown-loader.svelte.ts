/**
 * markdown-it and DOMPurify (~55 KB gzip) are not needed to paint the shell: their chunk loads
 * once a conversation (or anything else with markdown) opens, in parallel with its sync, and the
 * message list waits for it so bodies render once, never plain text first.
 */
type Markdown = typeof import('./markdown');

class MarkdownLoader {
	lib = $state.raw<Markdown | null>(null);
	#loading: Promise<Markdown> | null = null;

	ensure(): Promise<Markdown> {
		this.#loading ??= import('./markdown').then(
			(m) => (this.lib = m),
			(err: unknown) => {
				this.#loading = null; // the next view that needs it tries again
				throw err;
			}
		);
		return this.#loading;
	}
}

export const markdown = new MarkdownLoader();
