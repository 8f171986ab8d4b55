/**
 * Text too long for a message (or a comment) goes as a file instead: a `.md` when it reads like
 * markdown, else a `.txt`, uploaded through the same path as any attachment.
 */

/** How much of the text is looked at to tell markdown from plain text: enough, and cheap at 2 MB. */
const SNIFF_CHARS = 64 * 1024;
/** Lines that only markdown writes: headings, fences, lists, quotes, tables, links. */
const MARKDOWN_LINE = /^(#{1,6} \S|```|~~~|[-*+] \S|\d{1,3}\. \S|> \S|\|.*\|\s*$)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*/m;

export function looksLikeMarkdown(text: string): boolean {
	const head = text.slice(0, SNIFF_CHARS);
	let hits = 0;
	// Count marked lines, never more than a few: one stray `- ` in a log is not markdown.
	for (const line of head.split('\n', 2000)) if (MARKDOWN_LINE.test(line) && ++hits >= 2) return true;
	return false;
}

/** The text as a file to attach, named for when it was written (`text-2026-12-04-1432.md`). */
export function textAsFile(text: string, now = new Date()): File {
	const pad = (n: number) => String(n).padStart(2, '0');
	const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
	const md = looksLikeMarkdown(text);
	return new File([text], `text-${stamp}.${md ? 'md' : 'txt'}`, { type: md ? 'text/markdown' : 'text/plain' });
}
