import { describe, expect, it } from 'vitest';
import { isPlainParagraphs, markdownHtml } from './markdown';
import { highlight } from './highlight/languages';

describe('markdown images', () => {
	it('renders an image as a link to it, labelled with its alt text, never as <img>', () => {
		const html = markdownHtml('look ![x](http://127.0.0.1:1/pixel.png) here');
		expect(html).not.toContain('<img');
		expect(html).toContain('<a href="http://127.0.0.1:1/pixel.png" class="md-image" title="http://127.0.0.1:1/pixel.png" target="_blank" rel="noopener noreferrer">x</a>');
	});

	it('falls back to the address when there is no alt text, and escapes both', () => {
		const html = markdownHtml('![](https://t.example/a.gif?u=1&v=2)\n\n![<b>bold</b> & co](https://t.example/b.png)');
		expect(html).toContain('title="https://t.example/a.gif?u=1&amp;v=2" target="_blank" rel="noopener noreferrer">https://t.example/a.gif?u=1&amp;v=2</a>');
		expect(html).toContain('>&lt;b&gt;bold&lt;/b&gt; &amp; co</a>');
		expect(html).not.toContain('<b>');
	});

	it('does not nest a link in a link for an image inside one', () => {
		const html = markdownHtml('[![build](https://ci.example/badge.svg)](https://ci.example/run)');
		expect(html).toBe('<p><a href="https://ci.example/run" target="_blank" rel="noopener noreferrer"><span class="md-image">build</span></a></p>\n');
	});

	it('leaves an image whose address markdown-it refuses as text', () => {
		const html = markdownHtml('![x](javascript:alert(1))');
		expect(html).toBe('<p>![x](javascript:alert(1))</p>\n');
	});
});

describe('code highlighting', () => {
	const fence = '```ts\nconst answer: number = 42;\n```';

	it('leaves fences as escaped plain text until the highlighter is given', () => {
		expect(markdownHtml(fence)).toBe('<pre><code class="language-ts">const answer: number = 42;\n</code></pre>\n');
	});

	it('colours a tagged fence by its language, aliases included', () => {
		const html = markdownHtml(fence, highlight);
		expect(html).toContain('<span class="hljs-keyword">const</span>');
		expect(html).toContain('<span class="hljs-built_in">number</span>');
		expect(html).toContain('<span class="hljs-number">42</span>');
		expect(markdownHtml('```py\ndef f(): pass\n```', highlight)).toContain('<span class="hljs-keyword">def</span>');
	});

	it('keeps untagged and unknown-language fences plain, and escapes code either way', () => {
		expect(markdownHtml('```\nconst x = 1\n```', highlight)).not.toContain('hljs');
		expect(markdownHtml('```klingon\nQapla\'\n```', highlight)).not.toContain('hljs');
		const html = markdownHtml('```html\n<script>alert(1)</script>\n```', highlight);
		expect(html).not.toContain('<script>');
		expect(html).toContain('&lt;');
	});
});

describe('plain paragraphs (rendered without a sanitiser pass)', () => {
	it('are text with line breaks, the text escaped, entities and all', () => {
		for (const body of ['a status update', 'two\nlines', 'one\n\ntwo', '<script>alert(1)</script>', 'a & b "quoted" &lt;b&gt;', '<img src=x onerror=alert(1)>', '<p onclick=x>']) {
			expect(isPlainParagraphs(markdownHtml(body)), body).toBe(true);
		}
		expect(markdownHtml('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>\n');
	});

	it('are not anything with markup: links, emphasis, code, lists, quotes', () => {
		for (const body of ['see https://example.com', '**bold**', '`code`', '- item', '> quote', '[x](https://example.com)', '![x](http://t.example/p.png)', '# title']) {
			expect(isPlainParagraphs(markdownHtml(body)), body).toBe(false);
		}
	});
});
