/**
 * Parses the search box: `in:#channel` and `from:@handle` are filters, the rest is the text.
 * Unknown channels stay in the text, so a typo finds nothing rather than everything.
 */
export interface ParsedSearch {
	text: string;
	channel: string | null;
	from: string | null;
}

export function parseSearch(input: string): ParsedSearch {
	let channel: string | null = null;
	let from: string | null = null;
	const words: string[] = [];
	for (const word of input.trim().split(/\s+/).filter(Boolean)) {
		const inMatch = /^in:#?([a-z0-9][a-z0-9_-]*)$/i.exec(word);
		const fromMatch = /^from:@?([a-z0-9][a-z0-9._-]*)$/i.exec(word);
		if (inMatch) channel = inMatch[1]!.toLowerCase();
		else if (fromMatch) from = fromMatch[1]!.toLowerCase();
		else words.push(word);
	}
	return { text: words.join(' '), channel, from };
}
