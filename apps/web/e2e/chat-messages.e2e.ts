/**
 * Chat, complete (messages): threads, reactions, mentions of me and the message actions, each
 * done in one browser and seen live in another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { DESKTOP } from './support/team';
import { invite, message, messageAction, poll, post, signUpFirst } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
const errorLogs: string[][] = [];
const shots = process.env.E2E_SHOTS;

beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
	const a = await newPerson(browser, server.url, { viewport: DESKTOP });
	errorLogs.push(a.errors);
	ada = a.page;
	await a.context.grantPermissions(['clipboard-read', 'clipboard-write']);
	await signUpFirst(ada);
	bob = await invite(ada, { name: 'Bob Stone', email: 'bob@example.com' }, async () => {
		const b = await newPerson(browser, server.url, { viewport: DESKTOP });
		errorLogs.push(b.errors);
		return b.page;
	});
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('chat: messages', () => {
	it('replies in a thread live, with the count on the root', async () => {
		await post(ada, 'Shall we ship on Friday?');
		await poll(() => message(bob, 'Shall we ship').count()).toBe(1);
		await messageAction(bob, 'Shall we ship', 'message-reply');
		const pane = bob.locator('[data-testid=thread-pane]');
		await poll(() => pane.locator('[data-testid=thread-root]').innerText()).toContain('Shall we ship');
		await pane.locator('[data-testid=thread-composer]').fill('Yes, @ada');
		// The mention menu is the main composer's.
		await poll(() => bob.locator('[data-testid=mention-option]').count()).toBeGreaterThan(0);
		await bob.keyboard.press('Enter');
		await bob.keyboard.type('after the demo');
		await bob.keyboard.press('Enter');
		await poll(() => pane.locator('[data-testid=message]', { hasText: 'after the demo' }).count()).toBe(1);
		expect(await pane.locator('[data-testid=message]', { hasText: 'after the demo' }).innerText()).toContain('@ada.lovelace');
		// Replies stay out of the channel; the root shows the count, live, in both browsers.
		expect(await bob.locator('[data-testid=message-list] [data-testid=message]', { hasText: 'after the demo' }).count()).toBe(0);
		const summary = message(ada, 'Shall we ship').locator('[data-testid=thread-summary]');
		await poll(() => summary.getAttribute('data-count')).toBe('1');
		expect(await summary.innerText()).toMatch(/1 reply\s*· last reply today at/);

		await summary.click();
		const adaPane = ada.locator('[data-testid=thread-pane]');
		await poll(() => adaPane.locator('[data-testid=message]', { hasText: 'after the demo' }).count()).toBe(1);
		await adaPane.locator('[data-testid=thread-composer]').fill('Great, booking the room');
		await ada.keyboard.press('Enter');
		await poll(() => pane.locator('[data-testid=message]', { hasText: 'booking the room' }).count()).toBe(1);
		await poll(() => message(bob, 'Shall we ship').first().locator('[data-testid=thread-summary]').getAttribute('data-count')).toBe('2');
		// The root can be edited from the pane too.
		const root = adaPane.locator('[data-testid=thread-root] [data-testid=message]');
		await root.hover();
		await root.locator('[data-testid=message-edit]').click();
		await adaPane.locator('[data-testid=message-edit-input]').fill('Shall we ship on Friday, team?');
		await ada.keyboard.press('Enter');
		await poll(() => message(bob, 'Friday, team?').count()).toBe(2);
		await ada.locator('[data-testid=thread-close]').click();
		await poll(() => adaPane.count()).toBe(0);
	});

	it('adds reactions from the picker and pills, with counts and who reacted, live', async () => {
		await post(ada, 'Lunch is here');
		await poll(() => message(bob, 'Lunch is here').count()).toBe(1);
		await messageAction(bob, 'Lunch is here', 'message-react');
		await bob.locator('[data-testid=emoji-picker] [data-emoji="🎉"]').click();
		const adaPill = message(ada, 'Lunch is here').locator('[data-testid=reaction][data-emoji="🎉"]');
		await poll(() => adaPill.getAttribute('data-count')).toBe('1');
		expect(await adaPill.getAttribute('title')).toBe('Bob Stone reacted with 🎉');
		// Ada adds hers by clicking the pill: two, both named.
		await adaPill.click();
		const bobPill = message(bob, 'Lunch is here').locator('[data-testid=reaction][data-emoji="🎉"]');
		await poll(() => bobPill.getAttribute('data-count')).toBe('2');
		expect(await bobPill.getAttribute('title')).toBe('You, Ada Lovelace reacted with 🎉');
		expect(await bobPill.getAttribute('data-mine')).toBe('true');
		// Recently used emoji come first in the picker.
		await messageAction(bob, 'Lunch is here', 'message-react');
		expect(await bob.locator('[data-testid=emoji-picker] [data-testid=emoji-option]').first().getAttribute('data-emoji')).toBe('🎉');
		await bob.locator('[data-testid=emoji-picker] [data-emoji="👀"]').click();
		await poll(() => message(ada, 'Lunch is here').locator('[data-testid=reaction]').count()).toBe(2);
		// Clicking my pill again takes mine away.
		await bobPill.click();
		await poll(() => adaPill.getAttribute('data-count')).toBe('1');
		expect(await adaPill.getAttribute('title')).toBe('You reacted with 🎉');
	});

	it('highlights a message that mentions me, and not one that does not', async () => {
		await post(bob, 'Ping @ada.lovelace about the budget');
		await post(bob, 'No mention here');
		await poll(() => message(ada, 'No mention here').count()).toBe(1);
		expect(await message(ada, 'about the budget').getAttribute('data-mentions-me')).toBe('true');
		expect(await message(ada, 'about the budget').locator('.mention').innerText()).toBe('@ada.lovelace');
		expect(await message(ada, 'No mention here').getAttribute('data-mentions-me')).toBeNull();
		// Bob wrote it: not highlighted for him.
		expect(await message(bob, 'about the budget').getAttribute('data-mentions-me')).toBeNull();
	});

	it('edits, deletes after confirming, and copies a link that jumps to the message', async () => {
		await post(ada, 'Typo in this mesage');
		await poll(() => message(bob, 'Typo in this mesage').count()).toBe(1);
		await messageAction(ada, 'Typo in this mesage', 'message-edit');
		await ada.locator('[data-testid=message-edit-input]').fill('Typo fixed in this message');
		await ada.keyboard.press('Enter');
		await poll(() => message(bob, 'Typo fixed').count()).toBe(1);

		// Bob cannot edit Ada's message; the menu offers what he may do.
		await message(bob, 'Typo fixed').hover();
		expect(await message(bob, 'Typo fixed').locator('[data-testid=message-edit]').count()).toBe(0);
		expect(await message(bob, 'Typo fixed').locator('[data-testid=message-reply]').count()).toBe(1);

		await messageAction(ada, 'Typo fixed', 'message-copy-link');
		const link = await ada.evaluate(() => navigator.clipboard.readText());
		const id = await message(ada, 'Typo fixed').getAttribute('data-id');
		expect(link).toBe(`${server.url}/c/${new URL(ada.url()).pathname.split('/').pop()}?m=${id}`);
		await bob.goto(new URL(link).pathname + new URL(link).search);
		await poll(() => message(bob, 'Typo fixed').getAttribute('data-highlighted')).toBe('true');

		await messageAction(ada, 'Typo fixed', 'message-delete');
		await ada.locator('[data-testid=confirm-cancel]').click();
		expect(await message(ada, 'Typo fixed').count()).toBe(1);
		await messageAction(ada, 'Typo fixed', 'message-delete');
		await ada.locator('[data-testid=confirm-ok]').click();
		await poll(() => message(bob, 'Typo fixed').count()).toBe(0);
	});

	it('on a phone: a long press opens the action sheet; threads open full screen with a back button', async () => {
		const phone = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		errorLogs.push(phone.errors);
		await phone.context.addCookies(await ada.context().cookies());
		const p = phone.page;
		await p.goto(new URL(ada.url()).pathname);
		await poll(() => message(p, 'Lunch is here').count()).toBe(1);
		const row = message(p, 'Lunch is here');
		await row.dispatchEvent('pointerdown', { pointerType: 'touch', clientX: 100, clientY: 100, isPrimary: true });
		await p.waitForTimeout(650);
		await row.dispatchEvent('pointerup', { pointerType: 'touch' });
		const sheet = p.locator('[data-testid=action-sheet]');
		await poll(() => sheet.count()).toBe(1);
		await sheet.locator('[data-emoji="❤️"]').click();
		await poll(() => message(bob, 'Lunch is here').locator('[data-testid=reaction][data-emoji="❤️"]').count()).toBe(1);

		// A short tap does nothing.
		await row.dispatchEvent('pointerdown', { pointerType: 'touch', clientX: 100, clientY: 100, isPrimary: true });
		await p.waitForTimeout(150);
		await row.dispatchEvent('pointerup', { pointerType: 'touch' });
		await p.waitForTimeout(500);
		expect(await sheet.count()).toBe(0);

		await message(p, 'Shall we ship').dispatchEvent('pointerdown', { pointerType: 'touch', clientX: 100, clientY: 100, isPrimary: true });
		await p.waitForTimeout(650);
		await p.locator('[data-testid=sheet-reply]').click();
		const pane = p.locator('[data-testid=thread-pane]');
		await poll(() => pane.locator('[data-testid=message]', { hasText: 'booking the room' }).count()).toBe(1);
		const box = await pane.boundingBox();
		expect(box?.width).toBe(375);
		if (shots) await p.screenshot({ path: `${shots}/phone-thread.png` });
		await p.locator('[data-testid=thread-back]').click();
		await poll(() => pane.count()).toBe(0);
		await phone.context.close();

		// A deleted root keeps its place while replies hang off it.
		const rootId = await message(ada, 'Shall we ship').getAttribute('data-id');
		await messageAction(ada, 'Shall we ship', 'message-delete');
		await ada.locator('[data-testid=confirm-ok]').click();
		const root = bob.locator(`[data-testid=message][data-id="${rootId}"]`);
		await poll(() => root.getAttribute('data-deleted')).toBe('true');
		expect(await root.innerText()).toContain('This message was deleted');
		expect(await root.locator('[data-testid=thread-summary]').count()).toBe(1);
	});

	it('counts characters near the limit and keeps an oversized message in the composer instead of sending it', async () => {
		const composer = bob.locator('[data-testid=composer]');
		const count = bob.locator('[data-testid=composer-count]');
		await composer.fill(`Long ${'x'.repeat(40_000)}`);
		await poll(() => count.getAttribute('data-over')).toBe('true');
		expect(await count.innerText()).toContain('40,005 / 40,000 characters');
		expect(await bob.locator('[data-testid=composer-send]').isDisabled()).toBe(true);
		await bob.keyboard.press('Enter');
		expect((await composer.inputValue()).length).toBe(40_005);
		// Trimmed to the limit, it goes.
		await composer.fill(`Long ${'x'.repeat(39_995)}`);
		await poll(() => count.getAttribute('data-over')).toBe(null);
		await bob.keyboard.press('Enter');
		await poll(() => message(ada, `Long ${'x'.repeat(20)}`).count()).toBe(1);
		expect(await composer.inputValue()).toBe('');
		await poll(() => count.count()).toBe(0);
	});

	it('ran without page errors', async () => {
		if (shots) {
			await ada.screenshot({ path: `${shots}/messages-ada.png` });
			await bob.screenshot({ path: `${shots}/messages-bob.png` });
		}
		const unexpected = errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
