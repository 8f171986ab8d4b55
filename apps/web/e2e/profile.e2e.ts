/**
 * The profile page and password reset, in real Chromium against the real server and a real SMTP
 * listener: a new name and picture reach another person's browser live; signing out another
 * session ends it; "Forgot password?" mails a link that sets a new password and signs out the
 * rest. At 1440 px and at 375 px.
 */
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startSmtpSink } from '../../../agent-gateway/src/test/smtp-sink.ts';
import { joiner, launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { invite, post, poll, signUpFirst } from './support/people';

let server: TestServer;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let browser: Browser;
let ada: Page;
let bob: Page;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

/** A real 64×64 PNG of one colour. */
function png(rgb: [number, number, number]): Buffer {
	const chunk = (type: string, data: Buffer) => {
		const head = Buffer.alloc(8);
		head.writeUInt32BE(data.length, 0);
		head.write(type, 4, 'latin1');
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
		return Buffer.concat([head, data, crc]);
	};
	const w = 64;
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(w, 4);
	ihdr.set([8, 2, 0, 0, 0], 8);
	const rows = Buffer.alloc((w * 3 + 1) * w);
	for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rows.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
	return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

beforeAll(async () => {
	sink = await startSmtpSink();
	server = await startTestServer({ smtp: { url: sink.url } });
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
	errorLogs.push(a.errors);
	ada = a.page;
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, joiner(browser, server.url, errorLogs)({ width: 375, height: 740 }));
	// With SMTP the invite was mailed as well, and its link is the one the dialog showed.
	const mail = await sink.next((m) => m.to.includes('bob@example.com'));
	expect(mail.text).toMatch(/\/invite\/[a-z2-7]+/);
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
	await sink?.close();
});

async function openProfile(page: Page, narrow: boolean) {
	if (narrow) await page.locator('[data-testid=open-drawer]').first().click();
	await page.locator('[data-testid=open-profile]:visible').click();
	await page.locator('[data-testid=profile-form]').waitFor();
}

describe('profile', () => {
	it('a new name and picture show in another browser at once (1440 px)', async () => {
		await post(bob, 'hello from bob');
		await openProfile(ada, false);
		await ada.locator('[data-testid=profile-name]').fill('Ada King');
		await ada.locator('[data-testid=profile-title]').fill('Countess of Lovelace');
		await ada.locator('[data-testid=profile-save]').click();
		await poll(() => ada.locator('[data-testid=me-name]').textContent()).toBe('Ada King');
		await ada.locator('[data-testid=avatar-input]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png([200, 40, 90]) });
		await poll(() => ada.locator('[data-testid=profile-page] img').first().getAttribute('src')).toMatch(/^\/files\/.+\/thumb$/);
		if (shots) await ada.screenshot({ path: `${shots}/profile-1440.png` });

		// Bob sees the new name and the picture on Ada's messages in #general.
		await ada.locator('a[href^="/c/"]').first().click();
		await post(ada, 'my new look');
		const row = bob.locator('[data-testid=message]', { hasText: 'my new look' });
		await poll(() => row.locator('[data-testid=message-author]').textContent()).toContain('Ada King');
		const img = row.locator('img').first();
		await poll(() => img.getAttribute('src')).toMatch(/^\/files\/.+\/thumb$/);
		await poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
	});

	it('a handle already taken is refused with the reason (375 px)', async () => {
		await openProfile(bob, true);
		await bob.locator('[data-testid=profile-handle]').fill('ada.lovelace');
		await bob.locator('[data-testid=profile-save]').click();
		await expect.poll(() => bob.locator('[data-testid=profile-form]').textContent()).toContain('@ada.lovelace is taken');
		await bob.locator('[data-testid=profile-handle]').fill('bobby');
		await bob.locator('[data-testid=profile-save]').click();
		// Saved: nothing left to save, and the form no longer shows the refusal.
		await poll(() => bob.locator('[data-testid=profile-save]').isDisabled()).toBe(true);
		await expect(bob.locator('[data-testid=profile-form]').textContent()).resolves.not.toContain('is taken');
		if (shots) await bob.screenshot({ path: `${shots}/profile-375.png`, fullPage: true });
	});

	it('signs out another session from the list; that browser is sent to sign in (375 px)', async () => {
		// Bob on a second device.
		const laptop = await newPerson(browser, server.url, { viewport: { width: 1440, height: 900 } });
		errorLogs.push(laptop.errors);
		await laptop.page.goto('/login');
		await laptop.page.locator('[data-testid=login-email]').fill('bob@example.com');
		await laptop.page.locator('[data-testid=login-password]').fill('another long password');
		await laptop.page.locator('[data-testid=login-submit]').click();
		await laptop.page.locator('[data-testid=composer]').waitFor();

		await bob.reload();
		await bob.locator('[data-testid=sessions-list]').waitFor();
		await poll(() => bob.locator('[data-testid=session-row]').count()).toBe(2);
		await expect(bob.locator('[data-testid=session-row][data-current=true]').count()).resolves.toBe(1);
		await bob.locator('[data-testid=sessions-list]').scrollIntoViewIfNeeded();
		if (shots) await bob.screenshot({ path: `${shots}/profile-sessions-375.png` });
		await bob.locator('[data-testid=session-end]').click();
		await poll(() => bob.locator('[data-testid=session-row]').count()).toBe(1);
		// Its socket closed as unauthorized: the laptop goes back to sign in.
		await laptop.page.waitForURL('**/login', { timeout: 15_000 });
		await laptop.context.close();
	});
});

describe('password reset', () => {
	it('"Forgot password?" mails a link that sets a new password and signs out other sessions', async () => {
		const other = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		errorLogs.push(other.errors);
		const page = other.page;
		await page.goto('/login');
		await page.locator('[data-testid=to-forgot]').click();
		await page.locator('[data-testid=forgot-email]').fill('ada@example.com');
		await page.locator('[data-testid=forgot-submit]').click();
		await page.locator('[data-testid=forgot-sent]').waitFor();
		if (shots) await page.screenshot({ path: `${shots}/forgot-375.png` });
		const mail = await sink.next((m) => m.to.includes('ada@example.com') && m.subject.startsWith('Reset'));
		const link = /http:\/\/\S+\/reset\/[a-z2-7]+/.exec(mail.text)![0];
		await page.goto(new URL(link).pathname);
		await page.locator('[data-testid=reset-password]').fill('a fresh start for ada');
		await page.locator('[data-testid=reset-repeat]').fill('a fresh start for ada');
		if (shots) await page.screenshot({ path: `${shots}/reset-375.png` });
		await page.locator('[data-testid=reset-submit]').click();
		await page.locator('[data-testid=composer]').waitFor();
		// Ada's first browser held the old session: it is sent to sign in.
		await ada.waitForURL('**/login', { timeout: 15_000 });
		// The link was single-use.
		await page.goto(new URL(link).pathname);
		await page.locator('[data-testid=reset-again]').waitFor();
		await other.context.close();
	});

	it('ran without console errors', () => {
		// A 401 from a revoked session is expected when a page is sent to sign in.
		const unexpected = errorLogs.flat().filter((e) => !/401|Unauthorized|status of 4(01|03|04|09)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
