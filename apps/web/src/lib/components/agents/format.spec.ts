import { describe, expect, it } from 'vitest';
import { duration, interval, usd } from './format';

describe('format', () => {
	it('keeps fractions of a cent visible', () => {
		expect(usd(null)).toBe('—');
		expect(usd(0)).toBe('$0.00');
		expect(usd(0.0042)).toBe('$0.0042');
		expect(usd(1.5)).toBe('$1.50');
	});

	it('reads durations and intervals in the unit a person would use', () => {
		expect(duration(null)).toBe('—');
		expect(duration(154)).toBe('154 ms');
		expect(duration(2600)).toBe('2.6 s');
		expect(duration(95_000)).toBe('1 min 35 s');
		expect(interval(30)).toBe('30 s');
		expect(interval(300)).toBe('5 min');
		expect(interval(86_400)).toBe('24 h');
	});
});
