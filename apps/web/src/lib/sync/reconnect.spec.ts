import { describe, expect, it } from 'vitest';
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, reconnectDelay } from './reconnect';

describe('reconnectDelay', () => {
	it('doubles the window per attempt up to the cap, and draws uniformly inside it (full jitter)', () => {
		const top = (attempt: number) => reconnectDelay(attempt, () => 1);
		expect([0, 1, 2, 3, 4, 5, 30].map(top)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
		expect(top(0)).toBe(RECONNECT_BASE_MS);
		expect(top(1000)).toBe(RECONNECT_CAP_MS);
		expect(reconnectDelay(3, () => 0)).toBe(0);
		expect(reconnectDelay(3, () => 0.25)).toBe(1000);
	});

	it('spreads clients that failed together over the window instead of one instant', () => {
		const waits = Array.from({ length: 200 }, () => reconnectDelay(4));
		expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
		expect(Math.max(...waits)).toBeLessThanOrEqual(RECONNECT_CAP_MS);
		// 200 draws from 0..5000 ms: far more than a handful of distinct instants.
		expect(new Set(waits).size).toBeGreaterThan(100);
	});
});
