/**
 * Fuzzy matching for the quick switcher: the query's characters must appear in order in the
 * name (case-insensitive); matches at word starts and runs of consecutive characters score
 * higher, so "gen" ranks "general" above "eng-onboarding". Names are short (≤ 80 chars), so a
 * greedy pass per name is enough; null means no match.
 */
export function fuzzyScore(query: string, name: string): number | null {
	const q = query.trim().toLowerCase();
	if (q === '') return 0;
	const n = name.toLowerCase();
	if (n.startsWith(q)) return 1000 - n.length;
	let score = 0;
	let from = 0;
	let previous = -2;
	for (const ch of q) {
		const at = n.indexOf(ch, from);
		if (at < 0) return null;
		const wordStart = at === 0 || /[\s\-_.#@]/.test(n[at - 1]!);
		score += (at === previous + 1 ? 8 : 1) + (wordStart ? 10 : 0);
		previous = at;
		from = at + 1;
	}
	return score - n.length / 100;
}
