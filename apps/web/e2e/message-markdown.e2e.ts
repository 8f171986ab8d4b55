/**
 * Messages, rendered: a tagged code fence is highlighted once the highlighter chunk loads, and a
 * markdown image from another site shows as a link that no browser in the conversation fetches
 * (a tracking pixel would learn who read the message, and when).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, message, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
const errorLogs: string[][] = [];
/** Every address either browser asked for. */
const requested: string[] = [];
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	errorLogs.push(a.errors);
	ada = a.page;
	ada.on('request', (r) => requested.push(r.url()));
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		errorLogs.push(b.errors);
		b.page.on('request', (r) => requested.push(r.url()));
		return b.page;
	});
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('message markdown', () => {
	it('highlights a tagged code fence for the sender and the reader', async () => {
		await post(ada, 'Try this:\n```ts\nconst answer: number = 42;\n```');
		for (const page of [ada, bob]) {
			const code = message(page, 'const answer').locator('pre code.language-ts');
			await poll(() => code.locator('span.hljs-keyword').count()).toBeGreaterThan(0);
			expect(await code.locator('span.hljs-keyword').first().innerText()).toBe('const');
			expect(await code.locator('span.hljs-number').innerText()).toBe('42');
			// The theme's colours apply: a keyword is not drawn in the text colour.
			const [keyword, text] = await code.evaluate((el) => [getComputedStyle(el.querySelector('.hljs-keyword')!).color, getComputedStyle(el).color]);
			expect(keyword).not.toBe(text);
		}
		if (shots) {
			await ada.screenshot({ path: `${shots}/markdown-code-1440.png` });
			await bob.screenshot({ path: `${shots}/markdown-code-375.png` });
		}
	});

	it('shows an image from another site as a link and never fetches it', async () => {
		const pixel = 'http://127.0.0.1:1/pixel.png';
		await post(ada, `Quarterly chart ![x](${pixel})`);
		for (const page of [ada, bob]) {
			const link = message(page, 'Quarterly chart').locator('a.md-image');
			await poll(() => link.count()).toBe(1);
			expect(await link.getAttribute('href')).toBe(pixel);
			expect(await link.innerText()).toContain('x');
			expect(await message(page, 'Quarterly chart').locator('img').count()).toBe(0);
		}
		// A reload renders the message again from cache and server: still nothing fetched.
		await bob.reload();
		await poll(() => message(bob, 'Quarterly chart').locator('a.md-image').count()).toBe(1);
		expect(requested.filter((url) => url.startsWith('http://127.0.0.1:1/'))).toEqual([]);
		if (shots) {
			await ada.screenshot({ path: `${shots}/markdown-image-1440.png` });
			await bob.screenshot({ path: `${shots}/markdown-image-375.png` });
		}
	});

	it('ran without errors', () => {
		for (const errors of errorLogs) expect(errors).toEqual([]);
	});
});
