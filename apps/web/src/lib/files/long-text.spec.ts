import { describe, expect, it } from 'vitest';
import { looksLikeMarkdown, textAsFile } from './long-text';

describe('text sent as a file', () => {
	it('is markdown when two lines or more read like it, else plain text', () => {
		expect(looksLikeMarkdown('# Notes\n\n- one\n- two')).toBe(true);
		expect(looksLikeMarkdown('See [the docs](https://example.com) and **this**.\n```\ncode\n```')).toBe(true);
		expect(looksLikeMarkdown('2026-12-04 12:00 GET /health 200\n- retry 1')).toBe(false);
		expect(looksLikeMarkdown('x'.repeat(2_000_000))).toBe(false);
	});

	it('is named for when it was written, typed as what it is, with the text whole', async () => {
		const at = new Date(2026, 11, 4, 9, 5);
		const md = textAsFile('# Title\n\n- a\n- b', at);
		expect([md.name, md.type]).toEqual(['text-2026-12-04-0905.md', 'text/markdown']);
		const txt = textAsFile('plain words', at);
		expect([txt.name, txt.type, await txt.text()]).toEqual(['text-2026-12-04-0905.txt', 'text/plain', 'plain words']);
	});
});
