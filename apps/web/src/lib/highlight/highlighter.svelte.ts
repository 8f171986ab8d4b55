export type Highlight = (code: string, lang: string) => string;

/** A fence with a language tag (```ts): the only blocks worth loading the highlighter for. */
export const TAGGED_FENCE_RE = /^ {0,3}(`{3,}|~{3,})[ \t]*[\w+#-]/m;

/** The highlighter once its chunk has loaded; message bodies re-render when it lands. */
class Highlighter {
	fn = $state.raw<Highlight | null>(null);
	#loading = false;

	ensure() {
		if (this.fn || this.#loading) return;
		this.#loading = true;
		import('./languages').then(
			(m) => (this.fn = m.highlight),
			() => (this.#loading = false) // a later message tries again
		);
	}
}

export const highlighter = new Highlighter();
