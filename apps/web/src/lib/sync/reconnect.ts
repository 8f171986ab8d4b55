/**
 * When to try the relay again. Exponential backoff with full jitter (a uniformly random wait up
 * to the doubling cap): after a server restart or a Wi-Fi blip, every open doc of every client
 * would otherwise come back at the same 200/400/800 ms marks and hit the relay in waves.
 * A reconnect costs one state-vector exchange per doc (sync step 1 and 2: only what is missing
 * travels), so a laptop that slept for hours catches up with one round trip per open doc.
 */

/** First retry window, doubled per failed attempt. */
export const RECONNECT_BASE_MS = 500;
/** The window stops growing here (y-websocket's cap was the same 5 s, without the jitter). */
export const RECONNECT_CAP_MS = 5_000;
/** The browser says the network is back: try at once, spread over this window. */
export const ONLINE_JITTER_MS = 500;

export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
	const window = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 16));
	return Math.round(random() * window);
}
