import { describe, expect, it } from 'vitest';
import { typingText } from './typing.svelte';

describe('typingText', () => {
	it('names one, two, then counts the rest', () => {
		expect(typingText([])).toBe('');
		expect(typingText(['Ada'])).toBe('Ada is typing…');
		expect(typingText(['Ada', 'Bob'])).toBe('Ada and Bob are typing…');
		expect(typingText(['Ada', 'Bob', 'Cy', 'Di'])).toBe('Ada, Bob and 2 more are typing…');
	});
});
