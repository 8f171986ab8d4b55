/**
 * Message bodies are markdown written by members (and agents): markdown-it renders with raw HTML
 * off, DOMPurify sanitises the result anyway (defence in depth: a renderer bug must not become
 * XSS), and every link opens in a new tab without access to this window. Images are never
 * loaded: `![alt](url)` renders as a link (a remote image would tell its host who read what).
 */
import MarkdownIt from 'markdown-it';
import DOMPurify from 'dompurify';
import { SHORTCODE_RE } from './emoji/data';
import type { Highlight } from './highlight/highlighter.svelte';

/** The highlighter for the render in progress (renders are synchronous; see markdownHtml). */
let highlightFn: Highlight | null = null;

const md = new MarkdownIt({
	html: false,
	linkify: true,
	breaks: true,
	// '' lets markdown-it escape the block as plain text.
	highlight: (code, lang) => (lang && highlightFn ? highlightFn(code, lang) : '')
});

md.renderer.rules.image = (tokens, idx, options, env, self) => {
	const token = tokens[idx]!;
	const src = String(token.attrGet('src') ?? '');
	const label = md.utils.escapeHtml(self.renderInlineAsText(token.children ?? [], options, env) || src);
	// Inside a link (`[![badge](img)](url)`) a second anchor would nest: the label alone is enough.
	const open = tokens.slice(0, idx).filter((t) => t.type === 'link_open').length;
	const closed = tokens.slice(0, idx).filter((t) => t.type === 'link_close').length;
	if (open > closed) return `<span class="md-image">${label}</span>`;
	const href = md.utils.escapeHtml(src);
	return `<a href="${href}" class="md-image" title="${href}" target="_blank" rel="noopener noreferrer">${label}</a>`;
};

const defaultLinkOpen =
	md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
	const token = tokens[idx]!;
	token.attrSet('target', '_blank');
	token.attrSet('rel', 'noopener noreferrer');
	return defaultLinkOpen(tokens, idx, options, env, self);
};

let hooked = false;
function purifier() {
	if (!hooked) {
		// DOMPurify drops `target` by default; put it back only on links, with rel=noopener.
		DOMPurify.addHook('afterSanitizeAttributes', (node) => {
			if (node.tagName === 'A' && node.hasAttribute('href')) {
				node.setAttribute('target', '_blank');
				node.setAttribute('rel', 'noopener noreferrer');
			}
		});
		hooked = true;
	}
	return DOMPurify;
}

const mentionRe = /(^|[^\w@/])@([a-z0-9][a-z0-9._-]{1,39})/gi;

/**
 * Paragraphs and line breaks of escaped text, no other markup: what most messages render to.
 * markdown-it escapes every `<` of the text, so no tag or attribute can be in it but these, and
 * DOMPurify (a document parsed and serialised per call) would return the same tree.
 */
const PLAIN_RE = /^(?:[^<]|<\/?p>|<br>)*$/;
export const isPlainParagraphs = (html: string) => PLAIN_RE.test(html);

/** markdown-it's HTML for `body`, before sanitising; tagged code fences go through `highlight`. */
export function markdownHtml(body: string, highlight?: Highlight | null): string {
	highlightFn = highlight ?? null;
	try {
		return md.render(body);
	} finally {
		highlightFn = null;
	}
}

/**
 * Renders `body` to safe HTML. `isHandle` says which `@words` are real members; those become
 * mention chips, and `shortcodes` turns `:tada:` into 🎉 (both applied to text nodes outside
 * code and links, after sanitising, so no markup can be injected). `highlight`, once loaded,
 * colours tagged code fences.
 */
export function renderMarkdown(
	body: string,
	isHandle?: (handle: string) => boolean,
	shortcodes?: ReadonlyMap<string, string>,
	highlight?: Highlight | null
): string {
	// No <img> ever, whatever the renderer emits: the browser must not fetch from other sites.
	const html = markdownHtml(body, highlight);
	const clean = isPlainParagraphs(html) ? html : purifier().sanitize(html, { ADD_ATTR: ['target'], FORBID_TAGS: ['img'] });
	const mentions = !!isHandle && body.includes('@');
	const emoji = !!shortcodes && /:[a-z0-9_+-]+:/.test(body);
	if (!mentions && !emoji) return clean;
	const tpl = document.createElement('template');
	tpl.innerHTML = clean;
	const walker = document.createTreeWalker(tpl.content, NodeFilter.SHOW_TEXT);
	const texts: Text[] = [];
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (!(n.parentElement?.closest('code, pre, a'))) texts.push(n as Text);
	}
	for (const text of texts) {
		if (emoji) text.data = text.data.replace(SHORTCODE_RE, (all, code: string) => shortcodes!.get(code) ?? all);
		if (mentions) chipMentions(text, isHandle!);
	}
	return tpl.innerHTML;
}

function chipMentions(text: Text, isHandle: (handle: string) => boolean) {
	const value = text.data;
	mentionRe.lastIndex = 0;
	if (!mentionRe.test(value)) return;
	mentionRe.lastIndex = 0;
	const frag = document.createDocumentFragment();
	let last = 0;
	for (const m of value.matchAll(mentionRe)) {
		const handle = m[2]!.replace(/[._-]+$/, '');
		if (!isHandle(handle.toLowerCase())) continue;
		const start = m.index! + m[1]!.length;
		frag.append(value.slice(last, start));
		const chip = document.createElement('span');
		chip.className = 'mention';
		chip.textContent = `@${handle}`;
		frag.append(chip);
		last = start + 1 + handle.length;
	}
	if (last === 0) return;
	frag.append(value.slice(last));
	text.replaceWith(frag);
}

/** A search snippet from the server: escaped text with `<mark>`; anything else is dropped. */
export function sanitizeSnippet(html: string): string {
	// Snippets are cut from the markdown source; emphasis markers read as noise in a result line.
	const plain = html.replace(/\*\*|__|~~|`/g, '');
	return purifier().sanitize(plain, { ALLOWED_TAGS: ['mark'], ALLOWED_ATTR: [] });
}
