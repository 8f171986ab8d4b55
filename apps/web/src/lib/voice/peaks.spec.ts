import { describe, expect, it } from 'vitest';
import { clock, peaksOf, VOICE_BARS } from './peaks';

describe('voice peaks', () => {
	it('one whole-number bar per slice, the loudest at 100', () => {
		const samples = new Float32Array(6400);
		for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i / 5) * (i / samples.length);
		const peaks = peaksOf(samples);
		expect(peaks).toHaveLength(VOICE_BARS);
		expect(Math.max(...peaks)).toBe(100);
		expect(peaks.every((p) => Number.isInteger(p) && p >= 0 && p <= 100)).toBe(true);
		// A rising envelope rises.
		expect(peaks[5]!).toBeLessThan(peaks[60]!);
	});

	it('silence, and fewer samples than bars, stay in bounds', () => {
		expect(peaksOf(new Float32Array(1000))).toEqual(Array(VOICE_BARS).fill(0));
		const few = peaksOf(Float32Array.from([0.5, -1, 0.25]), 16);
		expect(few).toHaveLength(16);
		expect(few.every((p) => p >= 0 && p <= 100)).toBe(true);
		expect(peaksOf(new Float32Array(0), 16)).toEqual(Array(16).fill(0));
	});

	it('formats a clock', () => {
		expect([clock(0), clock(2150), clock(61_000), clock(-5)]).toEqual(['0:00', '0:02', '1:01', '0:00']);
	});
});
