/**
 * The foundation, end to end, in real Chromium against the real one-process server: the first
 * signup creates the workspace, the admin invites a second person through the UI, and messages,
 * edits, deletes, channels and DMs travel live between two browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newPerson } from './support/browser';
import { startTestServer, type TestServer } from './support/server';
import { DESKTOP } from './support/team';
import { message, openConversation, poll, post } from './support/people';

let server: TestServer;
let browser: Browser;
let ada: Page;
let bob: Page;
/** Page errors and console errors from every person's page (the expected 401 of /api/me aside). */
const errorLogs: string[][] = [];
/** Set E2E_SHOTS=<dir> to keep screenshots of the final state of each browser. */
const shots = process.env.E2E_SHOTS;


beforeAll(async () => {
	server = await startTestServer();
	browser = await launchBrowser();
});

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe('foundation', () => {
	it('the first signup creates the workspace with #general', async () => {
		const person = await newPerson(browser, server.url, { viewport: DESKTOP });
		ada = person.page;
		// A fresh server opens on creating the workspace, not on signing in.
		await ada.goto('/');
		await ada.waitForURL('**/signup');
		await ada.locator('[data-testid=signup-workspace]').fill('Acme');
		await ada.locator('[data-testid=signup-name]').fill('Ada Lovelace');
		await poll(() => ada.locator('[data-testid=signup-handle]').inputValue()).toBe('ada.lovelace');
		await ada.locator('[data-testid=signup-email]').fill('ada@example.com');
		await ada.locator('[data-testid=signup-password]').fill('correct horse battery');
		await ada.locator('[data-testid=signup-submit]').click();
		await ada.waitForURL('**/c/**');
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('general');
		await poll(() => ada.locator('[data-testid=workspace-name]').innerText()).toBe('Acme');
		await poll(() => ada.locator('[data-testid=sync-status]').getAttribute('data-status')).toBe('synced');
		errorLogs.push(person.errors);
	});

	it('an unknown address says so once, naming it', async () => {
		const { page, context } = await newPerson(browser, server.url, { viewport: DESKTOP });
		await page.goto('/no/such/page');
		await poll(() => page.locator('h1, h2').first().innerText()).toBe('Page not found');
		const text = await page.locator('body').innerText();
		expect(text).toContain('Nothing lives at /no/such/page.');
		expect(text).not.toMatch(/Not Found/);
		await context.close();
	});

	it('refuses a second signup without an invite and shows why', async () => {
		const { page, context } = await newPerson(browser, server.url, { viewport: DESKTOP });
		// Once the workspace exists, a stranger lands on signing in.
		await page.goto('/');
		await page.waitForURL('**/login');
		expect(await page.locator('[data-testid=login-form]').count()).toBe(1);
		await page.goto('/signup');
		await page.locator('[data-testid=signup-workspace]').fill('Other');
		await page.locator('[data-testid=signup-name]').fill('Eve');
		await page.locator('[data-testid=signup-email]').fill('eve@example.com');
		await page.locator('[data-testid=signup-password]').fill('another password');
		await page.locator('[data-testid=signup-submit]').click();
		await poll(() => page.locator('[data-testid=form-error]').innerText()).not.toBe('');
		expect(page.url()).toContain('/signup');
		await context.close();
	});

	it('the admin invites through the UI and the second person joins #general', async () => {
		await ada.locator('[data-testid=open-invite]').click();
		await ada.locator('[data-testid=invite-email-input]').fill('bob@example.com');
		await ada.locator('[data-testid=invite-create]').click();
		const link = await ada.locator('[data-testid=invite-link]').inputValue();
		expect(link).toMatch(/\/invite\/[^/]+$/);
		await ada.keyboard.press('Escape');

		const person = await newPerson(browser, server.url, { viewport: DESKTOP });
		bob = person.page;
		errorLogs.push(person.errors);
		await bob.goto(new URL(link).pathname);
		await poll(() => bob.locator('[data-testid=invite-email]').inputValue()).toBe('bob@example.com');
		await bob.locator('[data-testid=invite-name]').fill('Bob Stone');
		await bob.locator('[data-testid=invite-password]').fill('another long password');
		await bob.locator('[data-testid=invite-submit]').click();
		await bob.waitForURL('**/c/**');
		await poll(() => bob.locator('[data-testid=conversation-title]').innerText()).toContain('general');
		await poll(() => bob.locator('[data-testid=sidebar-channel][data-name=general]').count()).toBe(1);
		// Ada's header counts Bob as soon as he has joined.
		await poll(() => ada.locator('[data-testid=member-count]').innerText()).toContain('2');
	});

	it('a message posted in one browser appears live in the other, markdown rendered', async () => {
		await post(ada, 'Hello **team**, see https://example.com');
		await poll(() => message(bob, 'Hello team').count()).toBe(1);
		// The relay acknowledged it (message 101): nothing is left waiting to be sent.
		await poll(() => ada.locator('[data-testid=conversation-sync]').count()).toBe(0);
		const body = message(bob, 'Hello team').locator('[data-testid=message-body]');
		expect(await body.locator('strong').innerText()).toBe('team');
		expect(await body.locator('a').getAttribute('target')).toBe('_blank');
		expect(await body.locator('a').getAttribute('rel')).toContain('noopener');
		await poll(() => message(bob, 'Hello team').locator('[data-testid=message-author]').innerText()).toBe('Ada Lovelace');

		await post(bob, 'Hi @ada.lovelace <img src=x onerror=alert(1)>');
		await poll(() => message(ada, 'Hi @ada.lovelace').count()).toBe(1);
		expect(await message(ada, 'Hi @ada.lovelace').locator('img').count()).toBe(0);
		expect(await message(ada, 'Hi @ada.lovelace').locator('.mention').innerText()).toBe('@ada.lovelace');
	});

	it('edits and deletes reach the other browser live', async () => {
		await post(bob, 'Typo herre');
		await poll(() => message(ada, 'Typo herre').count()).toBe(1);
		// Ada cannot edit Bob's message: no actions on it.
		await message(ada, 'Typo herre').hover();
		expect(await message(ada, 'Typo herre').locator('[data-testid=message-edit]').count()).toBe(0);

		const mine = message(bob, 'Typo herre');
		await mine.hover();
		await mine.locator('[data-testid=message-edit]').click();
		await bob.locator('[data-testid=message-edit-input]').fill('Typo fixed');
		await bob.keyboard.press('Enter');
		await poll(() => message(ada, 'Typo fixed').count()).toBe(1);
		await poll(() => message(ada, 'Typo fixed').locator('[data-testid=message-edited]').count()).toBe(1);
		// The marker ends the text's line rather than taking one of its own.
		expect(await message(ada, 'Typo fixed').locator('[data-testid=message-body] p [data-testid=message-edited]').count()).toBe(1);

		const fixed = message(bob, 'Typo fixed');
		const id = await fixed.getAttribute('data-id');
		await fixed.hover();
		await fixed.locator('[data-testid=message-delete]').click();
		await bob.locator('[data-testid=confirm-ok]').click();
		// With no replies hanging off it, a deleted message leaves no placeholder.
		await poll(() => ada.locator(`[data-testid=message][data-id="${id}"]`).count()).toBe(0);
		expect(await message(ada, 'Typo fixed').count()).toBe(0);
	});

	it('a new channel appears in the creator sidebar and opens', async () => {
		// An unsent draft in #general survives going elsewhere (checked at the end).
		await ada.locator('[data-testid=composer]').fill('half-written thought');
		await ada.locator('[data-testid=section-channels-add]').click();
		await ada.locator('[data-testid=channel-name]').fill('Launch Plans');
		await ada.locator('[data-testid=channel-topic]').fill('Shipping the thing');
		await ada.locator('[data-testid=channel-create]').click();
		await poll(() => ada.locator('[data-testid=sidebar-channel][data-name=launch-plans]').count()).toBe(1);
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('launch-plans');
		await poll(() => ada.locator('[data-testid=conversation-topic]').innerText()).toBe('Shipping the thing');
		await post(ada, 'First in launch');
		await poll(() => message(ada, 'First in launch').count()).toBe(1);

		// Bob is not in it until he joins from the browser.
		expect(await bob.locator('[data-testid=sidebar-channel][data-name=launch-plans]').count()).toBe(0);
		await bob.locator('[data-testid=browse-channels]').click();
		await bob.locator('[data-testid=browse-channel][data-name=launch-plans] [data-testid=browse-join]').click();
		await poll(() => bob.locator('[data-testid=sidebar-channel][data-name=launch-plans]').count()).toBe(1);
		await poll(() => message(bob, 'First in launch').count()).toBe(1);

		await ada.locator('[data-testid=sidebar-channel][data-name=general]').click();
		await poll(() => ada.locator('[data-testid=composer]').inputValue()).toBe('half-written thought');
		await ada.locator('[data-testid=composer]').fill('');
		await ada.locator('[data-testid=sidebar-channel][data-name=launch-plans]').click();
	});

	it('unread counts and mentions show live in the sidebar and clear on reading', async () => {
		// Ada is in #launch-plans; Bob writes in #general.
		await openConversation(bob, bob.locator('[data-testid=sidebar-channel][data-name=general]'));
		// Typing @ada offers Ada; Enter picks her, the next Enter sends.
		await bob.locator('[data-testid=composer]').fill('Quick one for @ada');
		await poll(() => bob.locator('[data-testid=mention-option][data-handle="ada.lovelace"]').count()).toBe(1);
		await bob.keyboard.press('Enter');
		await poll(() => bob.locator('[data-testid=composer]').inputValue()).toBe('Quick one for @ada.lovelace ');
		await bob.keyboard.type('please');
		await bob.keyboard.press('Enter');
		const general = ada.locator('[data-testid=sidebar-channel][data-name=general]');
		await poll(() => general.locator('[data-testid=unread-mentions]').innerText()).toBe('1');
		expect(await message(bob, 'Quick one for').locator('.mention').innerText()).toBe('@ada.lovelace');
		await general.click();
		await poll(() => message(ada, 'Quick one for').count()).toBe(1);
		await poll(() => general.locator('[data-testid=unread-mentions], [data-testid=unread-count]').count()).toBe(0);
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=launch-plans]'));
		await ada.reload();
		await poll(() => ada.locator('[data-testid=sidebar-channel][data-name=general]').count()).toBe(1);
		expect(await ada.locator('[data-testid=sidebar-channel][data-name=general] [data-testid=unread-count]').count()).toBe(0);
	});

	it('@channel typed in the browser is offered, kept as the keyword, and counts as a mention for everyone', async () => {
		// Ada is in #launch-plans; Bob is in #general.
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('launch-plans');
		await bob.locator('[data-testid=composer]').fill('Heads up @ch');
		await poll(() => bob.locator('[data-testid=mention-option][data-handle=channel]').count()).toBe(1);
		await bob.keyboard.press('Enter');
		await poll(() => bob.locator('[data-testid=composer]').inputValue()).toBe('Heads up @channel ');
		await bob.keyboard.type('standup in five');
		await bob.keyboard.press('Enter');
		const general = ada.locator('[data-testid=sidebar-channel][data-name=general]');
		await poll(() => general.locator('[data-testid=unread-mentions]').innerText()).toBe('1');
		await openConversation(ada, general);
		await poll(() => message(ada, 'standup in five').getAttribute('data-mentions-me')).toBe('true');
		await openConversation(ada, ada.locator('[data-testid=sidebar-channel][data-name=launch-plans]'));
	});

	it('a private channel stays hidden until a member adds someone, then appears live', async () => {
		await ada.locator('[data-testid=section-channels-add]').click();
		await ada.locator('[data-testid=channel-name]').fill('leadership');
		await ada.locator('[data-testid=channel-private]').check();
		await ada.locator('[data-testid=channel-create]').click();
		await poll(() => ada.locator('[data-testid=sidebar-channel][data-name=leadership]').count()).toBe(1);
		await post(ada, 'Board meeting notes');
		await poll(() => message(ada, 'Board meeting notes').count()).toBe(1);

		await bob.locator('[data-testid=browse-channels]').click();
		await poll(() => bob.locator('[data-testid=browse-channel]').count()).toBeGreaterThan(0);
		expect(await bob.locator('[data-testid=browse-channel][data-name=leadership]').count()).toBe(0);
		await bob.keyboard.press('Escape');
		// Its address reads exactly like one that does not exist: no name, no offer to join.
		const back = bob.url();
		for (const id of [new URL(ada.url()).pathname.split('/').pop()!, 'c_doesnotexist0000']) {
			await bob.goto(`/c/${id}`);
			await poll(() => bob.locator('[data-testid=not-a-member]').getAttribute('data-found')).toBe('false');
			expect(await bob.locator('[data-testid=not-a-member]').innerText()).toContain('Conversation not found');
			expect(await bob.locator('[data-testid=not-a-member-join]').count()).toBe(0);
		}
		await bob.goto(back);
		await bob.locator('[data-testid=composer]').waitFor();

		await ada.locator('[data-testid=member-count]').click();
		await ada.locator('[data-testid=add-members]').click();
		await ada.locator('[data-testid=add-member][data-handle="bob.stone"]').click();
		await ada.locator('[data-testid=add-members-save]').click();
		await poll(() => ada.locator('[data-testid=conversation-member]').count()).toBe(2);
		await ada.keyboard.press('Escape');

		const item = bob.locator('[data-testid=sidebar-channel][data-name=leadership]');
		await poll(() => item.count()).toBe(1);
		await item.click();
		await poll(() => message(bob, 'Board meeting notes').count()).toBe(1);

		// Leaving takes it out of the sidebar (the server rewrites Bob's me: doc).
		await bob.locator('[data-testid=member-count]').click();
		await bob.locator('[data-testid=leave-channel]').click();
		await poll(() => item.count()).toBe(0);
		await poll(() => ada.locator('[data-testid=member-count]').innerText()).toContain('1');
	});

	it('a DM started by one person appears live in the other sidebar', async () => {
		await ada.locator('[data-testid=section-dms-add]').click();
		await ada.locator('[data-testid=dm-member][data-handle="bob.stone"]').click();
		await ada.locator('[data-testid=dm-start]').click();
		await poll(() => ada.locator('[data-testid=conversation-title]').innerText()).toContain('Bob Stone');
		await post(ada, 'Private word, Bob');
		const dm = bob.locator('[data-testid=sidebar-dm][data-name="Ada Lovelace"]');
		await poll(() => dm.count()).toBe(1);
		await dm.click();
		await poll(() => message(bob, 'Private word, Bob').count()).toBe(1);
	});

	it('works at 375px: the sidebar is a drawer', async () => {
		const phone = await newPerson(browser, server.url, { viewport: { width: 375, height: 740 } });
		errorLogs.push(phone.errors);
		await phone.context.addCookies(await bob.context().cookies());
		const page = phone.page;
		await page.goto('/');
		await page.waitForURL('**/c/**');
		expect(await page.locator('[data-testid=sidebar]').isVisible()).toBe(false);
		await page.locator('[data-testid=open-drawer]').click();
		await page.locator('[data-testid=drawer] [data-testid=sidebar-channel][data-name=launch-plans]').click();
		await poll(() => page.locator('[data-testid=drawer]').count()).toBe(0);
		await poll(() => page.locator('[data-testid=conversation-title]').innerText()).toContain('launch-plans');
		await post(page, 'From my phone');
		await ada.locator('[data-testid=sidebar-channel][data-name=launch-plans]').click();
		await poll(() => message(ada, 'From my phone').count()).toBe(1);
		const width = await page.evaluate(() => document.documentElement.scrollWidth);
		expect(width).toBeLessThanOrEqual(375);
		if (shots) await page.screenshot({ path: `${shots}/foundation-phone.png` });
		await phone.context.close();
	});

	it('ran without page errors', async () => {
		if (shots) {
			await ada.screenshot({ path: `${shots}/foundation-ada.png` });
			await bob.screenshot({ path: `${shots}/foundation-bob.png` });
		}
		const unexpected = errorLogs.flat().filter((e) => !/401 \(Unauthorized\)/.test(e));
		expect(unexpected).toEqual([]);
	});
});
