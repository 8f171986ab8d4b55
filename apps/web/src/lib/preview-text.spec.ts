import { describe, expect, it } from 'vitest';
import { previewText } from './preview-text';

describe('previewText', () => {
	it('drops code fences and keeps the code', () => {
		expect(previewText('Here is the helper:\n```ts\nretry(fn)\n```')).toBe('Here is the helper:\nretry(fn)');
	});

	it('keeps the text of emphasis, code, links and images, and drops heading and quote marks', () => {
		expect(previewText('# Plan\n> quoted\nPlease **review** the _launch_ ~~post~~ `now`: [doc](https://x.example/d) ![chart](https://x.example/c.png)')).toBe(
			'Plan\nquoted\nPlease review the launch post now: doc chart'
		);
	});

	it('leaves lone markers, snake_case and arithmetic alone', () => {
		expect(previewText('2 * 3 = 6, a_b_c and 5 * x')).toBe('2 * 3 = 6, a_b_c and 5 * x');
	});
});
