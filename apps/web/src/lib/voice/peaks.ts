/**
 * A voice message's waveform: one bar per slice of the recording, the loudest sample in it,
 * scaled so the loudest bar of the message is full height (a quiet recording still has a shape).
 * Whole numbers 0–100, as the server bounds them (packages/model voiceProblem).
 */
export const VOICE_BARS = 64;

export function peaksOf(samples: Float32Array, bars = VOICE_BARS): number[] {
	const raw: number[] = [];
	const per = samples.length / bars;
	for (let b = 0; b < bars; b++) {
		let max = 0;
		const end = Math.min(samples.length, Math.floor((b + 1) * per));
		for (let i = Math.floor(b * per); i < end; i++) {
			const v = Math.abs(samples[i]!);
			if (v > max) max = v;
		}
		raw.push(max);
	}
	const top = Math.max(...raw);
	// Silence (or no samples) is a flat line, not bars divided by zero.
	if (!(top > 0)) return raw.map(() => 0);
	return raw.map((v) => Math.min(100, Math.round((v / top) * 100)));
}

/** `m:ss` for a player or a recording timer. */
export function clock(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
