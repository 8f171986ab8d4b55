/**
 * Emoji from emojibase (its compact dataset and GitHub-style shortcodes, the ones Slack and
 * GitHub users type: `:tada:`, `:+1:`), loaded on first use as their own chunks so the workspace's
 * first load does not carry ~600 KB of JSON.
 */
export interface EmojiEntry {
	emoji: string;
	label: string;
	shortcodes: string[];
	tags: string[];
	group: number;
	/** The five skin tones, light to dark, for emoji that take them. */
	skins: string[] | null;
}

export interface EmojiGroup {
	id: number;
	name: string;
	first: string;
}

export interface EmojiData {
	entries: EmojiEntry[];
	groups: EmojiGroup[];
	byShortcode: Map<string, string>;
}

/** emojibase's 'component' group (bare skin tones, hair styles) is not something to pick. */
const COMPONENT_GROUP = 2;

/**
 * emojibase writes fully-qualified sequences (👍 + U+FE0F); browsers and keyboards send the bare
 * 👍 for emoji that default to emoji presentation. Reactions are keyed by the emoji's text, so one
 * spelling must win: drop U+FE0F when the first code point is a default-emoji one (≥ U+1F000) and
 * keep it on text-default ones such as ❤️, where it is what makes them emoji.
 */
export function normalizeEmoji(unicode: string): string {
	const bare = unicode.replace(/\uFE0F/g, '');
	return (bare.codePointAt(0) ?? 0) >= 0x1f000 ? bare : unicode;
}

interface CompactEmoji {
	hexcode: string;
	label: string;
	unicode: string;
	group?: number;
	order?: number;
	tags?: string[];
	skins?: Array<{ unicode: string }>;
}

let loading: Promise<EmojiData> | null = null;

export function loadEmoji(): Promise<EmojiData> {
	loading ??= (async () => {
		const [compact, codes, messages] = await Promise.all([
			import('emojibase-data/en/compact.json').then((m) => m.default as unknown as CompactEmoji[]),
			import('emojibase-data/en/shortcodes/github.json').then((m) => m.default as unknown as Record<string, string | string[]>),
			import('emojibase-data/en/messages.json').then((m) => m.default as unknown as { groups: Array<{ order: number; message: string }> })
		]);
		return buildEmojiData(compact, codes, messages.groups);
	})();
	loading.catch(() => (loading = null));
	return loading;
}

export function buildEmojiData(compact: CompactEmoji[], codes: Record<string, string | string[]>, groupNames: Array<{ order: number; message: string }>): EmojiData {
	const entries: EmojiEntry[] = [];
	const byShortcode = new Map<string, string>();
	for (const e of [...compact].sort((a, b) => (a.order ?? 1e9) - (b.order ?? 1e9))) {
		if (e.group === undefined || e.group === COMPONENT_GROUP) continue;
		const raw = codes[e.hexcode];
		const shortcodes = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
		const emoji = normalizeEmoji(e.unicode);
		// Five variants: one per tone. Pairs of people have 25 (a tone each); those keep the default.
		const skins = e.skins?.map((s) => normalizeEmoji(s.unicode)) ?? [];
		entries.push({ emoji, label: e.label, shortcodes, tags: e.tags ?? [], group: e.group, skins: skins.length === 5 ? skins : null });
		for (const code of shortcodes) if (!byShortcode.has(code)) byShortcode.set(code, emoji);
	}
	const groups: EmojiGroup[] = [];
	for (const g of groupNames) {
		const first = entries.find((e) => e.group === g.order);
		if (first) groups.push({ id: g.order, name: g.message.replace(/^./, (c) => c.toUpperCase()), first: first.emoji });
	}
	return { entries, groups, byShortcode };
}

/**
 * Emoji for a query typed after `:` or into the picker's search: shortcode prefixes first, then
 * shortcodes containing it, then names and tags.
 */
export function searchEmoji(data: EmojiData, query: string, limit = 48): EmojiEntry[] {
	const q = query.trim().toLowerCase().replace(/^:|:$/g, '');
	if (!q) return [];
	const ranked: Array<[number, EmojiEntry]> = [];
	for (const e of data.entries) {
		const rank = e.shortcodes.some((c) => c.startsWith(q)) ? 0
			: e.shortcodes.some((c) => c.includes(q)) ? 1
			: e.label.toLowerCase().includes(q) ? 2
			: e.tags.some((t) => t.startsWith(q)) ? 3
			: -1;
		if (rank >= 0) ranked.push([rank, e]);
	}
	return ranked.sort((a, b) => a[0] - b[0]).slice(0, limit).map(([, e]) => e);
}

/** `:shortcode:` runs in a text, for rendering. */
export const SHORTCODE_RE = /:([a-z0-9_+-]{1,40}):/g;
