import { describe, expect, it } from 'vitest';
import compact from 'emojibase-data/en/compact.json';
import codes from 'emojibase-data/en/shortcodes/github.json';
import messages from 'emojibase-data/en/messages.json';
import { buildEmojiData, normalizeEmoji, searchEmoji } from './data';

const data = buildEmojiData(compact as never, codes as never, messages.groups);

describe('emoji data', () => {
	it('maps GitHub shortcodes to emoji as people type them', () => {
		expect(data.byShortcode.get('tada')).toBe('🎉');
		expect(data.byShortcode.get('+1')).toBe('👍');
		expect(data.byShortcode.get('thumbsup')).toBe('👍');
		expect(data.byShortcode.get('heart')).toBe('❤️');
	});
	it('spells each emoji the way keyboards send it, so reactions do not split', () => {
		expect(normalizeEmoji('👍\uFE0F')).toBe('👍');
		expect(normalizeEmoji('❤\uFE0F')).toBe('❤️');
		expect(normalizeEmoji('✅')).toBe('✅');
	});
	it('leaves out skin-tone components and offers five tones where they exist', () => {
		expect(data.entries.some((e) => e.label.includes('skin tone') && !e.label.includes(':'))).toBe(false);
		const thumbs = data.entries.find((e) => e.emoji === '👍')!;
		expect(thumbs.skins).toHaveLength(5);
		expect(thumbs.skins![0]).toBe('👍🏻');
		expect(data.groups.map((g) => g.name)).toContain('Smileys & emotion');
	});
	it('ranks shortcode prefixes before names', () => {
		const hits = searchEmoji(data, 'tad');
		expect(hits[0]!.emoji).toBe('🎉');
		expect(searchEmoji(data, 'pizza')[0]!.emoji).toBe('🍕');
		expect(searchEmoji(data, '   ')).toEqual([]);
	});
});
