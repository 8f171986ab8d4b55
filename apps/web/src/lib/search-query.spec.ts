import { describe, expect, it } from 'vitest';
import { parseSearch } from './search-query';

describe('parseSearch', () => {
	it('takes in: and from: out of the text', () => {
		expect(parseSearch('  deploy in:#eng from:@ada.lovelace friday ')).toEqual({ text: 'deploy friday', channel: 'eng', from: 'ada.lovelace' });
	});
	it('accepts filters without # or @ and leaves plain words alone', () => {
		expect(parseSearch('in:General from:bob')).toEqual({ text: '', channel: 'general', from: 'bob' });
		expect(parseSearch('email me@x.org')).toEqual({ text: 'email me@x.org', channel: null, from: null });
	});
});
