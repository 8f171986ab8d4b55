/**
 * Esc closes the topmost open layer (a menu, picker, sheet or dialog before the pane under it),
 * one per press. Layers register while open, so the newest is on top. A key a field already
 * handled (the mention menu, the message editor) is left alone.
 */
const layers: (() => void)[] = [];

function onkeydown(e: KeyboardEvent) {
	if (e.key !== 'Escape' || e.defaultPrevented || e.isComposing) return;
	const close = layers.at(-1);
	if (!close) return;
	e.preventDefault();
	close();
}

/** Registers `close` as the top layer; returns the unregister (an `$effect` teardown). */
export function escapeLayer(close: () => void): () => void {
	if (layers.length === 0) window.addEventListener('keydown', onkeydown);
	layers.push(close);
	return () => {
		const i = layers.lastIndexOf(close);
		if (i >= 0) layers.splice(i, 1);
		if (layers.length === 0) window.removeEventListener('keydown', onkeydown);
	};
}

/** Whether some layer would take the next Esc (global keys then leave it alone). */
export const escapeLayerOpen = () => layers.length > 0;
