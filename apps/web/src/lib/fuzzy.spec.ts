import { describe, expect, it } from 'vitest';
import { fuzzyScore } from './fuzzy';

describe('fuzzyScore', () => {
	it('matches characters in order and refuses others', () => {
		expect(fuzzyScore('gnrl', 'general')).not.toBeNull();
		expect(fuzzyScore('lrng', 'general')).toBeNull();
		expect(fuzzyScore('', 'anything')).toBe(0);
	});
	it('ranks prefixes, then word starts and runs, above scattered letters', () => {
		const rank = (q: string, names: string[]) =>
			names
				.map((n) => ({ n, s: fuzzyScore(q, n) }))
				.filter((x) => x.s !== null)
				.sort((a, b) => b.s! - a.s!)
				.map((x) => x.n);
		expect(rank('gen', ['eng-onboarding', 'general', 'design-engineering'])).toEqual(['general', 'design-engineering']);
		expect(rank('ada', ['Grace Hopper', 'Ada Lovelace', 'Barbara Adams'])).toEqual(['Ada Lovelace', 'Barbara Adams']);
	});
	it('ignores case and surrounding spaces', () => {
		expect(fuzzyScore('  LAUNCH ', 'launch-plan')).toBe(fuzzyScore('launch', 'launch-plan'));
	});
});
