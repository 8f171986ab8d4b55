/**
 * Paginated history: a conversation is a chain of segment docs. With small segments, the view
 * survives a rollover (live + previous segment stay open) and older ones load on request.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { message, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
	server = await startTestServer({ segmentSize: 10 });
	browser = await launchBrowser();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

it('keeps history across segment rollovers and loads earlier segments on request', async () => {
	const { page, errors } = await newPerson(browser, server.url);
	await signUpFirst(page);
	for (let i = 1; i <= 25; i++) {
		await post(page, `note ${i}`);
		await poll(() => message(page, `note ${i}`).count()).toBe(1);
		// Under the relay's 5 messages/s budget.
		await page.waitForTimeout(220);
	}
	await page.reload();
	await poll(() => message(page, 'note 25').count()).toBe(1);
	// Live segment (21–25) and the one before it (11–20) are shown; 1–10 wait for a click.
	await poll(() => page.locator('[data-testid=message]').count()).toBe(15);
	expect(await message(page, 'note 10').count()).toBe(0);
	await page.locator('[data-testid=load-earlier]').click();
	await poll(() => page.locator('[data-testid=message]').count()).toBe(25);
	await poll(() => page.locator('[data-testid=load-earlier]').count()).toBe(0);
	const bodies = await page.locator('[data-testid=message-body]').allInnerTexts();
	expect(bodies.map((b) => b.trim())).toEqual(Array.from({ length: 25 }, (_, i) => `note ${i + 1}`));
	expect(errors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
});
