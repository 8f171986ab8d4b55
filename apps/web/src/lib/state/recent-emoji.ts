/**
 * Reaction emoji for the picker: a compact built-in set plus the ones I used last. Recents are
 * kept in this browser (localStorage), not the `me:` doc: the guard lets members write only
 * `reads`, `mutes`, `drafts` and `boardVisits` there, and a picker's order is not worth a
 * server-side schema change.
 */
export const BUILTIN_EMOJI = ['👍', '❤️', '😂', '🎉', '👀', '🙏', '✅', '🔥', '😮', '😢', '🚀', '💯', '👏', '🤔', '🙌', '➕'];

const KEY = 'circlechat:recent-emoji';
const MAX_RECENT = 8;

export function recentEmoji(): string[] {
	try {
		const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
		return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
	} catch {
		return [];
	}
}

export function rememberEmoji(emoji: string) {
	const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, MAX_RECENT);
	localStorage.setItem(KEY, JSON.stringify(next));
}

const TONE_KEY = 'circlechat:skin-tone';

/** The skin tone I picked last: 0 is the default yellow, 1–5 light to dark. */
export function skinTone(): number {
	const n = Number(localStorage.getItem(TONE_KEY) ?? 0);
	return Number.isInteger(n) && n >= 0 && n <= 5 ? n : 0;
}

export function setSkinTone(tone: number) {
	localStorage.setItem(TONE_KEY, String(tone));
}
