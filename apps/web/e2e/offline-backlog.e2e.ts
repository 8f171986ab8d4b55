/**
 * A reconnect lands the backlog: messages posted and edited offline go out through the outbox,
 * one change at a time after the sync exchange, and all land — nothing refused, nothing reset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, message, messageAction, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let adaContext: BrowserContext;
let bob: Page;
const errorLogs: string[][] = [];

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url);
	errorLogs.push(a.errors);
	ada = a.page;
	adaContext = a.context;
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url);
		errorLogs.push(b.errors);
		return b.page;
	});
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('offline backlog', () => {
	it('30 messages and edits made offline all land once back online', async () => {
		const sync = ada.locator('[data-testid=conversation-sync]');
		await post(ada, 'online before the tunnel');
		await poll(() => message(bob, 'online before the tunnel').count()).toBe(1);

		await adaContext.setOffline(true);
		await poll(() => sync.innerText()).toContain('Offline');
		for (let i = 0; i < 30; i++) await post(ada, `offline note ${i}`);
		await poll(() => message(ada, 'offline note 29').count()).toBe(1);
		for (const i of [3, 17, 29]) {
			await messageAction(ada, `offline note ${i}`, 'message-edit');
			await ada.locator('[data-testid=message-edit-input]').fill(`offline note ${i} (edited)`);
			await ada.locator('[data-testid=message-edit-save]').click();
			await poll(() => message(ada, `offline note ${i} (edited)`).count()).toBe(1);
		}
		expect(await message(bob, 'offline note').count()).toBe(0);

		await adaContext.setOffline(false);
		await poll(() => message(bob, 'offline note').count()).toBe(30);
		for (const i of [3, 17, 29]) await poll(() => message(bob, `offline note ${i} (edited)`).count()).toBe(1);
		await poll(() => sync.count()).toBe(0); // shown only while offline, connecting or sending
		expect(await ada.locator('[data-testid=refused-notice]').count()).toBe(0);
		expect(await message(ada, 'offline note').count()).toBe(30);

		// Typing right after reconnecting, before and during the flush, lands too.
		await adaContext.setOffline(true);
		await poll(() => sync.innerText()).toContain('Offline');
		await post(ada, 'queued while offline');
		await adaContext.setOffline(false);
		await post(ada, 'written on reconnect');
		await poll(() => message(bob, 'written on reconnect').count()).toBe(1);
		await poll(() => message(bob, 'queued while offline').count()).toBe(1);
		expect(await ada.locator('[data-testid=refused-notice]').count()).toBe(0);
		for (const errors of errorLogs) expect(errors.filter((e) => !/WebSocket|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
	});
});
