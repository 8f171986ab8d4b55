/**
 * Chat, complete (finding things): older segments load as I scroll up, links and search hits
 * open just the segment (or thread) they need, and the header search with its filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { DESKTOP } from './support/team';
import { invite, message, poll, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
let general: string;
const ids: Record<string, string> = {};
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

/** Posts through REST as the page's member (quicker than typing 25 messages). */
async function restPost(page: Page, conversationId: string, bodyMd: string, parentId?: string): Promise<string> {
	return page.evaluate(
		async ({ conversationId, bodyMd, parentId }) => {
			const res = await fetch(`/api/conversations/${conversationId}/messages`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ bodyMd, parentId })
			});
			return ((await res.json()) as { message: { id: string } }).message.id;
		},
		{ conversationId, bodyMd, parentId }
	);
}

beforeAll(async () => {
	server = await startTestServer({ segmentSize: 10 });
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: DESKTOP });
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	general = new URL(ada.url()).pathname.split('/').pop()!;
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url, { viewport: DESKTOP });
		errorLogs.push(b.errors);
		return b.page;
	});
	for (let i = 1; i <= 25; i++) {
		ids[`note ${i}`] = await restPost(ada, general, i === 2 ? 'note 2 about the zebra crossing' : `note ${i}`);
		await ada.waitForTimeout(15); // distinct createdAt
	}
	ids.reply = await restPost(bob, general, 'an old reply about zebra stripes', ids['note 3']);
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

const rows = (page: Page) => page.locator('[data-testid=message-list] [data-testid=message]');

describe('chat: history and search', () => {
	it('loads older segments when scrolled to the top, keeping my place', async () => {
		// Short enough that the two open segments overflow it.
		await bob.setViewportSize({ width: DESKTOP.width, height: 320 });
		await bob.reload();
		await poll(() => rows(bob).count()).toBe(15);
		const list = bob.locator('[data-testid=message-list]');
		const first = message(bob, 'note 11');
		await list.hover();
		await bob.mouse.wheel(0, -5000);
		await poll(() => rows(bob).count()).toBe(25);
		// Where I was reading (the top of the old view) is still in view; older messages went above it.
		await bob.waitForTimeout(300);
		const y = (await first.boundingBox())!.y;
		const top = (await list.boundingBox())!.y;
		expect(y).toBeGreaterThan(top - 40);
		expect(y).toBeLessThan(320);
		expect(await list.evaluate((el) => el.scrollTop)).toBeGreaterThan(100);
		await poll(() => bob.locator('[data-testid=load-earlier]').count()).toBe(0);
		await bob.setViewportSize(DESKTOP);
	});

	it('a link to an old message opens just its segment and highlights it; a reply link opens its thread', async () => {
		await bob.goto(`/c/${general}?m=${ids['note 5']}`);
		await poll(() => message(bob, 'note 5').getAttribute('data-highlighted')).toBe('true');
		expect(await message(bob, 'note 5').isVisible()).toBe(true);
		await bob.goto(`/c/${general}?m=${ids.reply}`);
		const pane = bob.locator('[data-testid=thread-pane]');
		await poll(() => pane.getAttribute('data-root')).toBe(ids['note 3']);
		await poll(() => pane.locator('[data-testid=message][data-highlighted=true]').innerText()).toContain('old reply about zebra');
		await poll(() => pane.locator('[data-testid=thread-root]').innerText()).toContain('note 3');
	});

	it('searches from the header (Ctrl+F) with highlighted snippets; a hit jumps to the message', async () => {
		await ada.goto(`/c/${general}`);
		await ada.locator('[data-testid=composer]').waitFor();
		await ada.keyboard.press('Control+f');
		await poll(() => ada.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search-input');
		await ada.keyboard.type('zebra');
		const results = ada.locator('[data-testid=search-result]');
		await poll(() => results.count()).toBe(2);
		const snippets = await ada.locator('[data-testid=search-snippet]').evaluateAll((els) => els.map((e) => e.innerHTML));
		expect(snippets.every((s) => s.includes('<mark>zebra</mark>'))).toBe(true);
		await ada.locator('[data-testid=search-result]', { hasText: 'crossing' }).click();
		await poll(() => ada.locator('[data-testid=search-pane]').count()).toBe(0);
		await poll(() => message(ada, 'zebra crossing').getAttribute('data-highlighted')).toBe('true');
	});

	it('filters with in:#channel and from:@handle, and keeps markup out of snippets', async () => {
		const eng = await ada.evaluate(async () => {
			const res = await fetch('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'channel', name: 'eng' }) });
			return ((await res.json()) as { conversation: { id: string } }).conversation.id;
		});
		await restPost(ada, eng, 'zebra in eng <img src=x onerror="window.__pwned=1">');
		const input = ada.locator('[data-testid=search-input]');
		await input.fill('zebra in:#eng');
		await poll(() => ada.locator('[data-testid=search-result]').count()).toBe(1);
		await poll(() => ada.locator('[data-testid=search-snippet]').innerText()).toContain('in eng');
		expect(await ada.locator('[data-testid=search-filter-in]').innerText()).toBe('in #eng');
		const html = await ada.locator('[data-testid=search-snippet]').innerHTML();
		expect(html).not.toContain('<img');
		expect(await ada.locator('[data-testid=search-snippet]').innerText()).toContain('<img src=x');
		expect(await ada.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

		await input.fill('zebra from:@bob.stone');
		await poll(() => ada.locator('[data-testid=search-snippet]').allInnerTexts()).toEqual(['an old reply about zebra stripes']);
		expect(await ada.locator('[data-testid=search-filter-from]').innerText()).toBe('from @bob.stone');
		// A hit in a thread opens the thread.
		await ada.locator('[data-testid=search-result]').click();
		await poll(() => ada.locator('[data-testid=thread-pane]').getAttribute('data-root')).toBe(ids['note 3']);
		if (shots) await ada.screenshot({ path: `${shots}/history-ada.png` });
	});

	it('on a phone the search pane is full screen with a back button', async () => {
		const phone = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		errorLogs.push(phone.errors);
		await phone.context.addCookies(await bob.context().cookies());
		const p = phone.page;
		await p.goto(`/c/${general}`);
		await p.locator('[data-testid=search-open]').click();
		const pane = p.locator('[data-testid=search-pane]');
		expect((await pane.boundingBox())?.width).toBe(375);
		await p.locator('[data-testid=search-input-phone]').fill('zebra');
		await poll(() => p.locator('[data-testid=search-result]').count()).toBe(2);
		if (shots) await p.screenshot({ path: `${shots}/phone-search.png` });
		await p.locator('[data-testid=search-back]').click();
		await poll(() => pane.count()).toBe(0);
		await phone.context.close();
	});

	it('ran without page errors', async () => {
		const unexpected = errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
